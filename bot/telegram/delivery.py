"""Deliver the outbox: oldest first, in order per chat, marked sent only once Telegram accepted.

Failures never lose a row. ``RetryAfter`` (flood control) is waited out, honouring
``retry_after``; network errors, timeouts and 5xx answers reschedule the row with exponential
backoff; ``Forbidden`` (the user blocked the bot) unsubscribes the chat and drops its rows; a
``BadRequest`` (Telegram will never accept this message) marks the row failed so it cannot block
the chat's queue forever. A chat's later rows wait while an earlier one is being retried, so
alerts arrive in order. Muted chats keep their rows until the mute ends.

The global rate (≈30 messages/s) is the Application's ``AIORateLimiter``; the per-chat limit
(1 message/s) is paced here, between consecutive sends to the same chat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import warnings
import weakref
from collections.abc import Awaitable, Callable, Collection
from itertools import groupby
from typing import Any, Protocol

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.answers import CAPTION_LIMIT, MESSAGE_LIMIT, clip
from bot.store import Store, outbox

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second into the same chat
BACKOFF_BASE = 2.0
BACKOFF_MAX = 600.0
INLINE_RETRY_AFTER_MAX = 30.0  # longer flood waits are rescheduled instead of slept through

Sleep = Callable[[float], Awaitable[None]]
# One delivery pass at a time per store: two overlapping passes would both send the same row.
_LOCKS: weakref.WeakKeyDictionary[Store, asyncio.Lock] = weakref.WeakKeyDictionary()


class Sender(Protocol):
    """What delivery needs from a bot: PTB's ``Bot`` has it, and so does the console's printer."""

    async def send_message(self, chat_id: int, text: str, *, parse_mode: str = ...) -> Any: ...

    async def send_photo(self, chat_id: int, photo: bytes, *, caption: str = ..., parse_mode: str = ...) -> Any: ...


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8, … seconds after the 1st, 2nd, 3rd failure, capped at ten minutes."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE ** max(1, attempts)))


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form; accept both
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def alert_html(row: outbox.OutboxRow, limit: int = MESSAGE_LIMIT) -> str:
    """An outbox row as the chat sees it: the rule's name in bold, then its message."""
    rule = (row.alert_key or "").split("|", 1)[0]
    if rule == "@digest":
        return row.text  # rendered as HTML by bot/digest, which keeps it short
    if rule == "@admin":
        return "⚠️ " + html.escape(clip(row.text, limit - 2))
    head = f"🔔 {rule}\n" if rule else ""
    body = clip(row.text, max(limit - len(head), 1))
    return (f"🔔 <b>{html.escape(rule)}</b>\n" if rule else "") + html.escape(body)


async def _send(bot: Sender, row: outbox.OutboxRow) -> None:
    if row.photo:
        caption = alert_html(row, CAPTION_LIMIT)
        await bot.send_photo(row.chat_id, photo=row.photo, caption=caption, parse_mode=ParseMode.HTML)
    else:
        text = alert_html(row)
        await bot.send_message(row.chat_id, text, parse_mode=ParseMode.HTML)


async def _deliver_chat(
    bot: Sender, store: Store, rows: list[outbox.OutboxRow], now: dt.datetime, sleep: Sleep, interval: float
) -> int:
    """Send one chat's rows in order; stop at the first row that must wait."""
    sent = 0
    for i, row in enumerate(rows):
        if row.next_attempt_at and row.next_attempt_at > outbox.iso(now):
            break  # an earlier failure scheduled this row later; later rows wait behind it
        if i:
            await sleep(interval)
        for _ in range(3):  # RetryAfter that the rate limiter did not already absorb
            try:
                await _send(bot, row)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if wait > INLINE_RETRY_AFTER_MAX:
                    outbox.mark_retry(store, row.id, str(exc), now + dt.timedelta(seconds=wait))
                    return sent
                log.info("flood control: waiting %.1f s before retrying chat %s", wait, row.chat_id)
                await sleep(wait)
                continue
            except Forbidden as exc:
                log.warning("chat %s blocked the bot (%s): unsubscribing it", row.chat_id, exc)
                outbox.unsubscribe(store, row.chat_id, reason=f"forbidden: {exc}")
                return sent
            except BadRequest as exc:
                log.error("Telegram refused outbox row %s for chat %s: %s", row.id, row.chat_id, exc)
                outbox.mark_failed(store, row.id, str(exc))
                break
            except (TelegramError, OSError) as exc:  # NetworkError, TimedOut, 5xx, …
                delay = backoff_seconds(row.attempts + 1)
                log.warning("sending to chat %s failed (%s); retrying in %.0f s", row.chat_id, exc, delay)
                outbox.mark_retry(store, row.id, str(exc), now + dt.timedelta(seconds=delay))
                return sent
            else:
                outbox.mark_sent(store, row.id)
                sent += 1
                break
        else:
            outbox.mark_retry(store, row.id, "flood control", now + dt.timedelta(seconds=backoff_seconds(row.attempts)))
            return sent
    return sent


async def deliver_pending(
    bot: Sender,
    store: Store,
    *,
    now: dt.datetime | None = None,
    only_chats: Collection[int] | None = None,
    skip_chats: Collection[int] = (),
    per_chat_interval: float = PER_CHAT_INTERVAL,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Send every due outbox row; returns how many Telegram accepted.

    Chats are delivered concurrently (the rate limiter caps the total), each in order. ``now``
    and ``sleep`` are injectable so tests can step time instead of waiting for it.
    """
    lock = _LOCKS.setdefault(store, asyncio.Lock())
    async with lock:
        now = now or dt.datetime.now(dt.UTC)
        muted = outbox.muted_chats(store, now)
        rows = [r for r in outbox.pending_rows(store, only_chats, skip_chats) if r.chat_id not in muted]
        if not rows:
            return 0
        per_chat = [list(g) for _, g in groupby(rows, key=lambda r: r.chat_id)]
        results = await asyncio.gather(
            *(_deliver_chat(bot, store, chat_rows, now, sleep, per_chat_interval) for chat_rows in per_chat)
        )
        return sum(results)
