"""Console mode: the same commands on stdin, plain-text answers and alerts on stdout."""

from __future__ import annotations

import io
import sys
import threading

import pytest

from bot.chat import BY_NAME, COMMANDS, CONSOLE_CHAT, CommandContext, dispatch, parse_duration, parse_line
from bot.chat.service import Service
from bot.console import run_console
from bot.jobs.check import run_check
from bot.store import outbox


async def session(service: Service, text: str) -> list[str]:
    out: list[str] = []
    await run_console(service, io.StringIO(text), out.append)
    return out


async def test_console_answers_and_prints_alerts(service: Service) -> None:
    out = await session(service, "/ratio\n\n/subscribe\n/alerts\n")
    assert out[0].startswith("^RUT / ^GSPC = 0.4200")
    assert "<b>" not in out[0]
    assert out[1].startswith("✅ Subscribed") and out[2] == "No alerts yet."
    # A rule fires while nobody is looking; the next session delivers it to the console once.
    run_check(service.store, service.config, sink=outbox.enqueue_alerts)
    out = await session(service, "/status\n")
    alerts = [line for line in out if line.startswith("🔔")]
    assert alerts == [
        "🔔 rut-spx-above-0.4\nSmall caps gaining: Russell 2000 / S&P 500 at 0.420, above 0.4",
        "🔔 rut-spx-above-0.41\nSecond alert: ratio 0.420 above 0.41",
    ]
    assert await session(service, "/help\n") and not [x for x in await session(service, "") if "🔔" in x]


async def test_console_is_admin_and_reports_bad_input(service: Service) -> None:
    out = await session(service, "hello\n/alerts 0\n/nope\n/reload\n")
    assert out[0].startswith("Commands start with /")
    assert out[1] == "Usage: /alerts [N, 1-30]"
    assert out[2].startswith("Unknown command /nope")
    assert "admins only" not in out[3]


async def test_every_command_answers_without_a_traceback(service: Service) -> None:
    ctx = CommandContext(service, CONSOLE_CHAT, admin=True)
    for command in COMMANDS:
        reply = await dispatch(ctx, f"/{command.name}")
        assert reply.text and "Traceback" not in reply.text, command.name


async def test_admin_only_for_others(service: Service) -> None:
    reply = await dispatch(CommandContext(service, 111, admin=False), "/reload")
    assert reply.text == "/reload is for admins only."


def test_parse_line_and_duration() -> None:
    assert parse_line("/Ratio@rotation_bot  5 x") == ("ratio", ["5", "x"])
    assert parse_line("ratio") is None and parse_line("/") is None
    assert parse_duration("90m").total_seconds() == 5400
    assert parse_duration("1w").days == 7
    for bad in ("0h", "91d", "2 hours", "-1d", "3y"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert set(BY_NAME) >= {"ratio", "breadth", "cpi", "status", "rules", "alerts", "subscribe", "mute", "chart"}


async def test_periodic_jobs_show_in_status(service: Service) -> None:
    async def boom() -> None:
        raise RuntimeError("feed down")

    service.add_periodic("daily-check", 3600, boom)
    service.start_periodic()
    try:
        assert set(service.next_runs()) == {"config-watch", "daily-check"}  # the watcher runs in every mode
        await service.run_job(service.periodic[-1])
    finally:
        await service.stop_periodic()
    reply = await dispatch(CommandContext(service, CONSOLE_CHAT, admin=True), "/status")
    assert "Last error: daily-check: RuntimeError: feed down" in reply.text
    assert "daily-check" in reply.text.split("Next runs:")[1]


async def test_no_stdin_at_all_is_end_of_input(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """``run --console <&-``: Python's sys.stdin is None; the reader must end the console, not die with a traceback."""
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    monkeypatch.setattr(sys, "stdin", None)
    out: list[str] = []
    before = set(threading.enumerate())
    await run_console(service, None, out.append)
    for reader in set(threading.enumerate()) - before:  # the reader has ended, or said why it died
        reader.join(timeout=30)
    assert died == [] and out == []
