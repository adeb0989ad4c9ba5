"""Updates from different chats are handled at once; each chat's own in order, with a budget for heavy work.

PTB handles one update at a time by default, so thirty ``/chart ratio max`` from one chat held every
other chat's ``/ratio`` for seconds. ``ChatOrder`` is the Application's update processor
(``concurrent_updates``): every update runs as soon as it arrives, except that a chat's updates wait
for that chat's earlier ones (an asyncio lock per chat, first come first served), so each chat still
sees its answers in the order it asked. Heavy commands (charts, track records, what-if previews:
``Command.heavy``) are budgeted per chat: beyond ``HEAVY_PER_CHAT`` queued or running, the command is
not run and the chat gets one "busy" line (once per backlog, so a flood cannot turn into a flood of
refusals); a pressed button gets it as the press's answer. Light commands are never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot.chat import BY_NAME, parse_line

log = logging.getLogger(__name__)

HEAVY_PER_CHAT = 3  # heavy commands one chat may have queued or running; more are answered "busy"
# PTB's semaphore is taken before the chat's lock, so a chat's waiting updates hold slots: the bound must
# be memory (a few KB a waiting update), never what one chat's backlog fills while others wait behind it.
MAX_CONCURRENT_UPDATES = 4096
BUSY = "⏳ Busy: this chat already has {n} charts or previews in the works. Try again once they are answered."


def heavy_command(update: object) -> bool:
    """Is this a new message or a button press that runs a heavy command (the command table says)?"""
    if not isinstance(update, Update):
        return False
    name: str | None = None
    if update.message is not None and update.message.text:
        parsed = parse_line(update.message.text)
        name = parsed[0] if parsed else None
    elif update.callback_query is not None and update.callback_query.data:
        name = update.callback_query.data.split(":", 1)[0]  # buttons carry "command:rule-ref:args"
    command = BY_NAME.get(name) if name else None
    return command is not None and command.heavy


class ChatOrder(BaseUpdateProcessor):
    """Concurrent across chats, in order within one; ``allowed`` (the config in force) decides who is budgeted."""

    def __init__(
        self,
        allowed: Callable[[int], bool],
        heavy_per_chat: int = HEAVY_PER_CHAT,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.allowed = allowed
        self.heavy_per_chat = heavy_per_chat
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: Counter[int] = Counter()  # updates per chat holding or awaiting its lock
        self._heavy: Counter[int] = Counter()  # heavy commands per chat queued or running
        self._told: set[int] = set()  # chats told "busy" during their current backlog

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        if chat is None:
            await coroutine
            return
        heavy = heavy_command(update)
        if heavy and self._heavy[chat] >= self.heavy_per_chat and self.allowed(chat):
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # not run: no "never awaited" warning
            await self._refuse(update, chat)
            return
        self._heavy[chat] += heavy
        self._waiting[chat] += 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            self._heavy[chat] -= heavy
            self._waiting[chat] -= 1
            if self._heavy[chat] <= 0:
                del self._heavy[chat]
                self._told.discard(chat)  # the backlog is done: a new one may be told again
            if self._waiting[chat] <= 0:
                del self._waiting[chat], self._locks[chat]

    async def _refuse(self, update: object, chat: int) -> None:
        """One "busy" line per backlog; a press always gets its answer (the client's spinner stops)."""
        assert isinstance(update, Update)
        text = BUSY.format(n=self._heavy[chat])
        log.info("chat %s is over its budget of %d heavy commands: refused one", chat, self.heavy_per_chat)
        with contextlib.suppress(TelegramError):
            if update.callback_query is not None:
                await update.callback_query.answer(text)
            elif chat not in self._told:
                self._told.add(chat)
                await update.get_bot().send_message(chat, text)
