"""systemd's notify protocol as the bot speaks it, against sockets of the test's own, and the watchdog's rule: fed
only while polling goes on (a fake clock, stepped by the test)."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from pathlib import Path

import pytest

from bot.telegram.watchdog import POLL_STALE_SECONDS, Watchdog, sd_notify, watchdog_seconds
from tests.support.notify import notify_socket


def test_a_message_reaches_a_socket_named_by_path() -> None:
    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # a Unix socket path has at most 107 bytes: tmp_path may be longer
    path = folder / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        assert sd_notify("READY=1", {"NOTIFY_SOCKET": str(path)})
        assert sock.recv(100) == b"READY=1"
    path.unlink()
    folder.rmdir()


def test_a_message_reaches_a_socket_in_the_abstract_namespace() -> None:
    with notify_socket() as sock:
        assert sock.address.startswith("@")
        assert sd_notify("WATCHDOG=1", {"NOTIFY_SOCKET": sock.address})
        assert sock.drain() == ["WATCHDOG=1"]


def test_outside_systemd_nothing_is_sent() -> None:
    assert not sd_notify("READY=1", {})
    assert not sd_notify("READY=1", {"NOTIFY_SOCKET": ""})


@pytest.mark.parametrize("address", ["/nonexistent/notify", "@rotation-bot-test-nobody-listens", "vsock:2:1234"])
def test_a_socket_nobody_listens_on_is_a_warning_never_an_error(address: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.telegram.watchdog"):
        assert not sd_notify("READY=1", {"NOTIFY_SOCKET": address})
        assert not sd_notify("WATCHDOG=1", {"NOTIFY_SOCKET": address})  # said once, not at every ping
    assert len(caplog.records) == 1 and address in caplog.text


def test_a_full_queue_is_said_once_until_a_ping_gets_through(caplog: pytest.LogCaptureFixture) -> None:
    """systemd not reading its socket (the queue full) must neither block the loop nor log every ping."""
    with notify_socket() as sock, caplog.at_level(logging.WARNING, logger="bot.telegram.watchdog"):
        environ = {"NOTIFY_SOCKET": sock.address}
        while sd_notify("WATCHDOG=1", environ):
            pass
        assert not sd_notify("WATCHDOG=1", environ)
        assert len(caplog.records) == 1 and "Resource temporarily unavailable" in caplog.text
        sock.drain()
        assert sd_notify("WATCHDOG=1", environ)
        while sd_notify("WATCHDOG=1", environ):
            pass
    assert len(caplog.records) == 2  # a new streak of failures is said again


@pytest.mark.parametrize(
    ("environ", "seconds"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),  # WatchdogSec=60: fed every 30 s
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "1"}, 0.01),  # no busy loop, however small
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "sixty"}, None),
        ({}, None),
    ],
)
def test_how_often_the_watchdog_is_fed(environ: dict[str, str], seconds: float | None) -> None:
    assert watchdog_seconds(environ) == seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_ready_once_polling_begins_then_fed_only_while_polling_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[str] = []

    def notify(state: str) -> bool:
        sent.append(state)
        return True

    clock = Clock()
    dog = Watchdog(notify=notify, clock=clock)
    await dog.feed()
    assert sent == []  # still starting: no ping before READY
    dog.polled()
    dog.polled()
    assert sent == ["READY=1"]  # once
    await dog.feed()
    assert sent == ["READY=1", "WATCHDOG=1"]
    clock.now += POLL_STALE_SECONDS  # a long poll and a backoff: still polling
    await dog.feed()
    assert sent[-1] == "WATCHDOG=1" and len(sent) == 3
    clock.now += 1  # no getUpdates for longer than a healthy loop is ever quiet: polling has stopped
    with caplog.at_level(logging.ERROR, logger="bot.telegram.watchdog"):
        await dog.feed()
        await dog.feed()
    assert len(sent) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "no getUpdates for 121 s: polling has stopped; the watchdog is no longer fed, so systemd restarts the bot"
    ]
    dog.polled()
    await dog.feed()
    assert sent[-1] == "WATCHDOG=1" and len(sent) == 4
    dog.stopping()
    assert sent[-1] == "STOPPING=1"


def test_outside_systemd_the_watchdog_is_silent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without NOTIFY_SOCKET (a terminal, a container) nothing is sent and nothing is said about it."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    with caplog.at_level(logging.DEBUG, logger="bot.telegram.watchdog"):
        dog = Watchdog()
        dog.polled()
        dog.stopping()
    assert caplog.records == []
