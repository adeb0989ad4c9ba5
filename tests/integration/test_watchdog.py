"""systemd's watchdog, fed by the real bot: the PTB Application on the fake Bot API (and ``rotation-bot run`` as a
process) tells a socket of the test's own READY=1 once polling, WATCHDOG=1 while its event loop turns and polling
goes on, and STOPPING=1 at the end. A hung loop and a revoked token stop the pings, so systemd restarts the bot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.service import Service
from tests.support.fake_telegram import FakeTelegram
from tests.support.notify import NotifySocket, notify_socket
from tests.support.tg_helpers import ADMIN, TOKEN, build, running

PING = 0.05  # seconds between pings: WATCHDOG_USEC is twice that, as systemd sets it for WatchdogSec=0.1


@pytest.fixture
def notify(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    """What systemd gives a Type=notify unit with WatchdogSec: NOTIFY_SOCKET and WATCHDOG_USEC."""
    with notify_socket() as sock:
        monkeypatch.setenv("NOTIFY_SOCKET", sock.address)
        monkeypatch.setenv("WATCHDOG_USEC", str(round(2 * PING * 1e6)))
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        yield sock


def start_bot(folder: Path, tg: FakeTelegram, sock: NotifySocket) -> subprocess.Popen[str]:
    """``rotation-bot run </dev/null`` with a token, as the shipped unit starts it (the daily jobs off: they fetch
    from Yahoo), the test's socket standing in for systemd's."""
    config = folder / "config.toml"
    config.write_text(
        f'[store]\npath = "s.sqlite"\n[telegram]\napi_base_url = "{tg.base_url}"\nadmin_chats = [{ADMIN}]\n'
    )
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "NOTIFY_SOCKET": sock.address, "WATCHDOG_USEC": "200000"}
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run", "--no-schedule"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def test_ready_once_polling_then_pings_which_a_hung_loop_stops(service: Service, notify: NotifySocket) -> None:
    async with running(build(service)):
        assert await notify.next() == "READY=1"
        assert [await notify.next(), await notify.next()] == ["WATCHDOG=1", "WATCHDOG=1"]
        notify.drain()
        # The event loop hangs: a call that blocks it, as a deadlocked or endless synchronous call would. This
        # sleep is the hang itself, not a wait for something: however slow the machine, no ping can leave meanwhile.
        time.sleep(20 * PING)
        assert notify.drain() == []
        assert await notify.next() == "WATCHDOG=1"  # the loop turns again, and so do the pings
    assert notify.drain()[-1] == "STOPPING=1"


def test_run_with_a_token_polls_and_feeds_the_watchdog_until_sigterm(tmp_path: Path, tg: FakeTelegram) -> None:
    with notify_socket() as sock:
        proc = start_bot(tmp_path, tg, sock)
        try:
            assert sock.wait_for("READY=1") == ["READY=1"]
            assert sock.wait_for("WATCHDOG=1") == ["WATCHDOG=1"]
            assert sock.wait_for("WATCHDOG=1") == ["WATCHDOG=1"]
            proc.send_signal(signal.SIGTERM)  # systemctl stop
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        assert sock.drain()[-1] == "STOPPING=1"
    assert "Traceback" not in err and TOKEN not in err
    assert tg.calls("getUpdates")


def test_a_token_revoked_while_polling_stops_the_bot_in_one_line(tmp_path: Path, tg: FakeTelegram) -> None:
    """PTB ends its polling task on a 401 and would leave the process up, answering nobody, until stopped with a
    traceback: the bot stops itself, exits 1 with one line, and systemd's restart refuses the token the same way."""
    with notify_socket() as sock:
        proc = start_bot(tmp_path, tg, sock)
        try:
            sock.wait_for("WATCHDOG=1")
            tg.fail_next("getUpdates", *["401"] * 5)  # @BotFather /revoke: every later call is refused
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert sock.drain()[-1] == "STOPPING=1"
    assert proc.returncode == 1
    assert err.splitlines()[-1] == "Error: Telegram rejected the bot token: check the token from @BotFather"
    assert "Task was destroyed" not in err and "Event loop is closed" not in err and TOKEN not in err
