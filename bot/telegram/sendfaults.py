"""Why a send failed, as delivery must see it: did the request perhaps reach Telegram, and how long to wait.

A failure either happened before the request left (it cannot have reached Telegram: retry with
backoff, like any outage), came with Telegram's answer (429, 5xx: it did not take the message), or
happened after the request left without an answer (Telegram may have the message). Only the last is
ambiguous: sending again may make a copy, so delivery allows one more send at most.
"""

from __future__ import annotations

import datetime as dt
import warnings

import httpx
from telegram.error import RetryAfter, TelegramError, TimedOut

BACKOFF_BASE = 2.0
BACKOFF_MAX = 600.0
INLINE_RETRY_AFTER_MAX = 30.0  # longer flood waits are rescheduled instead of slept through

# httpx failures that provably happen before a byte of the request is sent: no connection was made
# (refused, unresolvable, TLS failed, too slow to connect), or none was free in the pool.
NEVER_LEFT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8, … seconds after the 1st, 2nd, 3rd failure, capped at ten minutes."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE ** max(1, attempts)))


def outcome_unknown(exc: BaseException) -> bool:
    """Did a failed send perhaps reach Telegram? True unless it provably never left or Telegram answered.

    PTB wraps httpx's errors (``from`` them): a connect error or a pool or connect timeout never
    left; any other transport error (the connection dropped or was reset after the request was
    written, a read or write timeout, an answer that is not JSON) leaves the outcome open, as does a
    ``TimedOut`` of its own. A ``TelegramError`` with no cause, or caused by one that failed to parse
    an error page, was built from Telegram's answer (5xx, a proxy's 502): it did not take the message.
    A plain ``OSError`` (a sender other than PTB) is open unless the connection was refused.
    """
    if isinstance(exc, RetryAfter):
        return False  # an answer: flood control
    if isinstance(exc, TelegramError):
        cause = exc.__cause__
        if cause is None or isinstance(cause, TelegramError):
            return isinstance(exc, TimedOut)
        return not isinstance(cause, NEVER_LEFT)
    return not isinstance(exc, ConnectionRefusedError)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form; accept both
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
