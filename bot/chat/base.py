"""What every command is made of: the context it runs in, its reply, its table row and its mistakes."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.chat.buttons import Keyboard
from bot.chat.service import Service
from bot.config import Config
from bot.store import Store
from bot.values import iso_date

CONSOLE_CHAT = 0  # the console's chat id: allowed and admin, never a real Telegram chat
MAX_ALERTS = 30
MAX_MUTE = dt.timedelta(days=90)


@dataclass(frozen=True)
class Reply:
    """An answer: HTML text, a PNG when the answer is a chart (the text is then its caption), and buttons."""

    text: str
    photo: bytes | None = None
    buttons: Keyboard = ()


@dataclass(frozen=True)
class CommandContext:
    """Who asks (chat id, admin or not) and the running service (config, store, schedule)."""

    service: Service
    chat_id: int
    admin: bool = False

    @property
    def config(self) -> Config:
        return self.service.config

    @property
    def store(self) -> Store:
        return self.service.store


class UsageError(Exception):
    """The arguments do not fit the command; the caller replies with its usage line (and this error's text, such as
    the valid values, when it has one)."""


CommandFn = Callable[[CommandContext, list[str]], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    fn: CommandFn
    help: str
    usage: str = ""
    admin: bool = False
    hint: str = ""  # an example and the limits, shown with the usage line after a mistake
    menu: bool = True  # False: pressed as a button only (Apply, Cancel), not listed in /help or the menu
    heavy: bool = False  # a chart, a replay or a what-if: seconds of work, budgeted per chat (bot/telegram/chats.py)

    @property
    def usage_line(self) -> str:
        line = f"Usage: /{self.name} {self.usage}".rstrip()
        return f"{line} ({self.hint})" if self.hint else line


def no_args(args: list[str]) -> None:
    if args:
        raise UsageError


_DURATION = re.compile(r"^(\d{1,4})([mhdw])$", re.ASCII)  # int() would read ٣ and 𝟗 as digits too


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> dt.timedelta:
    """``30m``, ``2h``, ``3d`` or ``1w``, up to 90 days; ValueError otherwise."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise ValueError(text)
    span = dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    if not dt.timedelta(0) < span <= MAX_MUTE:
        raise ValueError(text)
    return span


def duration_arg(text: str) -> dt.timedelta:
    """A /mute or /silence DURATION argument; one that does not parse is a usage mistake."""
    try:
        return parse_duration(text)
    except ValueError:
        raise UsageError from None


def date_arg(text: str) -> dt.date:
    """A YYYY-MM-DD argument (ASCII digits only); anything else is a usage mistake."""
    try:
        return dt.date.fromisoformat(iso_date(text))
    except ValueError:
        raise UsageError from None


T = TypeVar("T")


async def off_loop(ctx: CommandContext, work: Callable[[Store], T]) -> T:
    """Heavy work (a chart, a replay) in a worker thread with its own connection, at most CHART_WORKERS at once:
    a pile of ``/chart breadth max`` requests queues behind the slots while other chats' commands go on."""
    path = ctx.store.path
    if str(path) == ":memory:":  # a private in-memory store exists on this connection only
        return work(ctx.store)
    async with ctx.service.chart_slots:
        return await asyncio.to_thread(_with_own_store, path, work)


def _with_own_store(path: Path, work: Callable[[Store], T]) -> T:
    store = Store(path)  # SQLite connections stay in the thread that opened them
    try:
        return work(store)
    finally:
        store.close()
