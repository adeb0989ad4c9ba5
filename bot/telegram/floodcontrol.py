"""Telegram's flood control, a chat at a time: a 429 holds the chat it was for, not the whole bot.

PTB's ``AIORateLimiter`` halts every request on any ``RetryAfter`` and retries it twice itself, so one chat
over its limit held every other chat's replies and alerts (another chat's ``/ratio`` waited 19 s under a
``retry_after`` of 20, an alert 96 s under 25). Telegram's 429 does not say whose limit it was: the chat's
(about one message a second into a chat, twenty a minute into a group) or the bot's (about thirty a second).
So ``FloodControl`` takes a 429 as that chat's own: its later requests wait until its ``retry_after`` has
passed, and every other chat goes on. When a second chat gets one while the first still waits, the limit is
taken to be the bot's: every request waits until the latest of those waits ends. A 429 to a request that names
no chat is the bot's as well.

A wait of up to ``INLINE_RETRY_AFTER_MAX`` is waited out before the request goes; a longer one is not sent at all
(Telegram would refuse it, and asking early can lengthen the ban): the caller gets a ``RetryAfter`` at once.
The limiter never retries; its callers do, by their own rules (delivery reschedules an alert, a reply is tried
again at most ``FLOOD_RETRIES`` times). Like ``AIORateLimiter`` (and with the same aiolimiter), it also paces
the bot to ``overall_max_rate`` messages a second and each group to twenty a minute.

The waits are measured on a ``Clock`` that tests replace, so a 90 s wait takes no 90 s there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.sendfaults import INLINE_RETRY_AFTER_MAX, retry_after_seconds

log = logging.getLogger(__name__)

FLOOD_RETRIES = 2  # a reply Telegram refused with a 429 is sent again at most this often, each after its wait
GROUP_RATE = (20, 60.0)  # Telegram: about twenty messages a minute into one group
MAX_KEPT = 512  # chats' pacers and ended waits are dropped beyond this many (a bot in many groups)

ChatKey = int | str  # a chat id, or a channel's @name


@dataclass(frozen=True)
class Clock:
    """What the bot waits by: ``monotonic`` seconds and an ``async`` sleep. Tests give a stepped one."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


REAL_CLOCK = Clock()


def _chat_key(value: object) -> ChatKey | None:
    """The chat a request is for, as ``AIORateLimiter`` reads it: an int id, or a channel's @name."""
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return str(value)


def _too_long(seconds: float) -> RetryAfter:
    """Telegram's own error for a wait still running, in whole seconds as Telegram gives them ("Retry in 89 s…")."""
    with warnings.catch_warnings():  # PTB 22 warns about the int form of retry_after even for a timedelta
        warnings.simplefilter("ignore")
        return RetryAfter(dt.timedelta(seconds=math.ceil(seconds)))


class FloodControl(BaseRateLimiter[None]):
    """The Application's rate limiter: per-chat flood waits, global only when several chats get a 429."""

    def __init__(self, overall_max_rate: float, clock: Clock = REAL_CLOCK) -> None:
        self.clock = clock
        self._overall = AsyncLimiter(overall_max_rate, 1)
        self._groups: dict[ChatKey, AsyncLimiter] = {}
        self._until: dict[ChatKey, float] = {}  # a chat's flood wait ends at this clock time
        self._all_until = 0.0  # the bot's own flood wait (several chats at once, or a request for no chat)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def wait_left(self, chat: ChatKey | None) -> float:
        """Seconds until a request for ``chat`` may go (0 when it may go now)."""
        until = max(self._all_until, self._until.get(chat, 0.0) if chat is not None else 0.0)
        return max(0.0, until - self.clock.monotonic())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = _chat_key(data.get("chat_id"))
        while (left := self.wait_left(chat)) > 0:
            if left > INLINE_RETRY_AFTER_MAX:
                raise _too_long(left)  # not sent: the caller reschedules or gives up
            await self.clock.sleep(left)
        async with self._paced(chat):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._flooded(chat, retry_after_seconds(exc), endpoint)
                raise

    @contextlib.asynccontextmanager
    async def _paced(self, chat: ChatKey | None) -> AsyncIterator[None]:
        """The bot's overall pace for requests into a chat, and a group's own (a negative id or an @name)."""
        if chat is None:
            yield
            return
        if isinstance(chat, str) or chat < 0:
            async with self._group(chat), self._overall:
                yield
        else:
            async with self._overall:
                yield

    def _group(self, chat: ChatKey) -> AsyncLimiter:
        if len(self._groups) > MAX_KEPT:  # forget groups whose pacer is full again: they sent nothing lately
            for key, limiter in list(self._groups.items()):
                if key != chat and limiter.has_capacity(limiter.max_rate):
                    del self._groups[key]
        return self._groups.setdefault(chat, AsyncLimiter(*GROUP_RATE))

    def _flooded(self, chat: ChatKey | None, seconds: float, endpoint: str) -> None:
        """Telegram answered 429: the chat waits, or the whole bot when other chats are waiting too."""
        now = self.clock.monotonic()
        end = now + seconds
        if len(self._until) > MAX_KEPT:
            self._until = {c: t for c, t in self._until.items() if t > now}
        if chat is None:
            self._all_until = max(self._all_until, end)
            log.warning(
                "flood control: Telegram asked the bot to wait %.0f s (%s): every chat waits",
                seconds,
                endpoint,
            )
            return
        others = sorted(str(c) for c, t in self._until.items() if t > now and c != chat)
        self._until[chat] = max(self._until.get(chat, 0.0), end)
        if others:
            self._all_until = max(self._all_until, end)
            log.warning(
                "flood control: Telegram asked chat %s to wait %.0f s while chat %s waits too: taken as the bot's"
                " own limit, every chat waits",
                chat,
                seconds,
                ", ".join(others),
            )
        else:
            log.warning(
                "flood control: Telegram asked chat %s to wait %.0f s: that chat waits, the others go on",
                chat,
                seconds,
            )
