"""Console mode: the bot's commands on stdin, answers and alerts on stdout, with no connection to Telegram.

The same command functions answer as in Telegram (bot/chat/commands.py), with the HTML tags stripped.
The console is chat 0, allowed and admin; alerts queued for chat 0 (after ``/subscribe``) are
delivered by bot/telegram's own outbox code (hence the import), through a "bot" that prints. At end of input
the console delivers what is due once more and exits, so ``echo /ratio | rotation-bot run
--console`` works in scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.answers import to_plain
from bot.chat import (
    CONSOLE_CHAT,
    DELIVERY_SECONDS,
    Button,
    CommandContext,
    Reply,
    Service,
    dispatch,
    labels,
    parse_button,
)
from bot.telegram import deliver_pending

log = logging.getLogger(__name__)

Write = Callable[[str], None]


def _default_write(text: str) -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError:  # the reader is gone (`run --console | head`): the rest goes nowhere, as in Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


CHARTS_KEPT = 20  # the console keeps the latest charts only, so a long session does not fill its folder


def chart_folder(store_path: Path) -> Path:
    """The console's charts live beside the store (``data/rotation-bot.sqlite`` → ``data/rotation-bot-charts/``):
    each store its own, not one /tmp folder that every user and checkout of the machine shares."""
    return store_path.with_name(store_path.stem + "-charts")


def save_photo(photo: bytes, folder: Path) -> str:
    """Charts go to PNG files in ``folder``, the oldest beyond CHARTS_KEPT removed; the console prints the path."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="chart-", suffix=".png", delete=False) as f:
        f.write(photo)
    charts = sorted(folder.glob("chart-*.png"), key=lambda p: p.stat().st_mtime_ns)
    for old in charts[:-CHARTS_KEPT]:
        old.unlink(missing_ok=True)
    path = Path(f.name)
    return str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


def show(reply: Reply, write: Write, folder: Path) -> None:
    if reply.photo is not None:
        write(f"[chart saved to {save_photo(reply.photo, folder)}]")
    write(to_plain(reply.text))
    if reply.buttons:  # the console cannot press: it shows the command each button stands for
        write(labels(reply.buttons))


class ConsoleBot:
    """Delivery's view of a bot, printing instead of sending (same signature as PTB's Bot): what a chat would
    get, the same text, the chart as a file, and each button of the keyboard as the command it stands for."""

    def __init__(self, write: Write, service: Service) -> None:
        self.write = write
        self.service = service

    def _reply(self, text: str, photo: bytes | None, markup: Any) -> Reply:
        rows: list[list[Button]] = []
        for row in getattr(markup, "inline_keyboard", ()):
            rows.append([])
            for b in row:
                pressed = parse_button(str(b.callback_data), self.service.config)
                if pressed:
                    rows[-1].append(Button(b.text, pressed[0], args=tuple(pressed[1])))
        return Reply(text, photo, buttons=tuple(tuple(r) for r in rows if r))

    async def send_message(
        self, chat_id: int, text: str, parse_mode: str | None = None, reply_markup: Any = None, **_: Any
    ) -> None:
        show(self._reply(text, None, reply_markup), self.write, chart_folder(self.service.store.path))

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> None:
        show(self._reply(caption or "", photo, reply_markup), self.write, chart_folder(self.service.store.path))


def _reader(stream: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read stdin in a daemon thread, so Ctrl-C never waits for a blocked readline."""
    try:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
    except (OSError, ValueError, RuntimeError):  # stdin closed under us, or the loop closed first (Ctrl-C)
        pass
    finally:
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody left to tell
            loop.call_soon_threadsafe(queue.put_nowait, None)


async def run_console(service: Service, stream: TextIO | None = None, write: Write = _default_write) -> None:
    """Answer command lines until end of input, printing alerts for chat 0 as they are delivered."""
    bot = ConsoleBot(write, service)
    ctx = CommandContext(service, CONSOLE_CHAT, admin=True)

    async def deliver() -> None:
        await deliver_pending(bot, service.store, only_chats=(CONSOLE_CHAT,), per_chat_interval=0)

    service.add_periodic("delivery", DELIVERY_SECONDS, deliver)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    source = stream or sys.stdin or io.StringIO()  # no stdin at all (run --console <&-): at end of input
    threading.Thread(target=_reader, args=(source, asyncio.get_running_loop(), queue), daemon=True).start()
    service.start_periodic()
    try:
        while (line := await queue.get()) is not None:
            if not line.strip():
                continue
            try:
                show(await dispatch(ctx, line), write, chart_folder(service.store.path))
            except Exception as exc:  # a bug in one command must not end the session
                log.error("command %r failed", line.strip(), exc_info=exc)
                write(f"Error: {type(exc).__name__}: {exc}")
            await deliver()
    finally:
        await service.stop_periodic()
    await deliver()
