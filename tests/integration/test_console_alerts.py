"""The console shows an alert exactly as a chat gets it: the same text (its day, its track-record line), the
buttons as the commands they stand for, and the chart as a file beside the store."""

from __future__ import annotations

import io
from pathlib import Path

from bot.answers import to_plain
from bot.chat import CONSOLE_CHAT, alert_buttons
from bot.chat.service import Service
from bot.console import chart_folder, run_console
from bot.jobs import notifier
from bot.jobs.check import run_check
from bot.store import chats
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ALLOWED, build, running

RULE = "rut-spx-above-0.4"


async def test_console_prints_what_telegram_sends(tg: FakeTelegram, service: Service) -> None:
    chats.subscribe(service.store, ALLOWED)
    chats.subscribe(service.store, CONSOLE_CHAT)
    report = run_check(service.store, service.config, rules=service.config.rules[:1], sink=notifier(service.config))
    [alert] = report.alerts
    out: list[str] = []
    await run_console(service, io.StringIO(""), out.append)  # first: the Telegram bot drops chat 0, not its own
    async with running(build(service)):
        await tg.wait_until(lambda: bool(tg.calls("sendPhoto", ALLOWED)))
    [photo] = tg.calls("sendPhoto", ALLOWED)
    telegram_text = to_plain(photo.text)
    assert f"📅 {alert.date.isoformat()}" in telegram_text.splitlines()  # the day the alert describes
    assert any(line.startswith("Fired ") for line in telegram_text.splitlines())  # its track record

    saved, text, buttons = out[:3]
    assert text == telegram_text
    assert buttons == "  ".join(f"[{b.label}: {b.typed}]" for b in alert_buttons(RULE)[0])
    assert buttons.startswith(f"[📈 Chart: /chart {RULE}]")
    path = Path(saved.removeprefix("[chart saved to ").removesuffix("]"))
    assert path.parent == chart_folder(service.store.path) == service.store.path.parent / "test-charts"
    assert path.read_bytes() == photo.files["photo"]  # the very chart the chat got
