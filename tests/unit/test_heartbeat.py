"""After each daily job, the heartbeat to [monitor] ping_url (a local HTTP server here): it never delays or fails
the job, and its URL, a secret, never reaches the log."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.settings import config_from_text
from bot.errors import ConfigFileError, SourceUnavailable
from bot.jobs import heartbeat
from bot.jobs.scheduler import BotScheduler
from bot.store.backup import backups_of
from tests.support.scheduler_helpers import Clock, et
from tests.support.scheduler_helpers import friday_scheduler as scheduler

SECRET = "4b1d-5ecret-uuid"


class Monitor:
    """A healthchecks-like server on 127.0.0.1 recording the paths pinged; ``hold`` keeps each answer back."""

    def __init__(self, status: int = 200) -> None:
        self.paths: list[str] = []
        self.status = status
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        monitor = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                monitor.paths.append(self.path)
                monitor.arrived.set()
                monitor.hold.wait(120)
                self.send_response(monitor.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ping/{SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    m = Monitor()
    yield m
    m.close()


def ran(sched: BotScheduler) -> list[str]:
    lines = sched.tick()
    if sched.heartbeat is not None:
        sched.heartbeat.join(120)
    return lines


def test_a_failed_backup_tells_the_admins_and_the_job_still_counts_and_pings(tmp_path: Path, monitor: Monitor) -> None:
    (tmp_path / "backups").write_text("a file where the folder should be")
    extra = f'\n[monitor]\nping_url = "{monitor.url}"\n'
    sched, store, _ = scheduler(tmp_path, extra, store_keys='backups = "backups"\n')
    lines = ran(sched)
    assert "1 new alerts" in lines[0]
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"
    [message] = sched.messages
    folder = tmp_path / "backups"
    assert (
        message
        == f"The daily backup of the store failed: the backup folder {folder} is a file, not a folder: give a folder"
    )
    assert monitor.paths == [f"/ping/{SECRET}"]
    store.close()


def test_a_successful_job_pings_a_failed_one_pings_fail(tmp_path: Path, monitor: Monitor) -> None:
    extra = f'\n[monitor]\nping_url = "{monitor.url}"\n'
    sched, store, prices = scheduler(tmp_path, extra, SourceUnavailable("yahoo", "HTTP 503"))
    assert "failed" in ran(sched)[0]
    assert monitor.paths == [f"/ping/{SECRET}/fail"]
    prices.error = None
    assert isinstance(sched.now, Clock)
    sched.now.t = et(2024, 7, 26, 17, 50)  # after the retry time
    assert "1 new alerts" in ran(sched)[0]
    assert monitor.paths == [f"/ping/{SECRET}/fail", f"/ping/{SECRET}"]
    store.close()


def test_a_monitor_that_does_not_answer_never_holds_the_job(tmp_path: Path, monitor: Monitor) -> None:
    """The server keeps its answer until the job has returned: a ping the job waited for would time out first."""
    monitor.hold.clear()
    sched, store, _ = scheduler(tmp_path, f'\n[monitor]\nping_url = "{monitor.url}"\n')
    lines = sched.tick()  # returns while the monitor still holds the ping
    assert "1 new alerts" in lines[0]
    assert monitor.arrived.wait(120)
    assert sched.heartbeat is not None and sched.heartbeat.is_alive()
    monitor.hold.set()
    sched.heartbeat.join(120)
    assert monitor.paths == [f"/ping/{SECRET}"]
    store.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("answer", ["HTTP 500", "connection refused"])
def test_a_failing_monitor_is_one_log_line_without_its_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    monitor = Monitor(status=500)
    url = monitor.url if answer == "HTTP 500" else f"http://127.0.0.1:{closed_port()}/ping/{SECRET}?k={SECRET}"
    caplog.set_level(logging.DEBUG)
    try:
        sched, store, _ = scheduler(tmp_path, f'\n[monitor]\nping_url = "{url}"\n')
        assert "1 new alerts" in ran(sched)[0]
    finally:
        monitor.close()
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"
    store.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.jobs.heartbeat"]
    assert warnings == [f"the heartbeat success ping went unanswered ({answer}); the job itself is not affected"]
    assert not [r for r in caplog.records if SECRET in r.getMessage() or SECRET in (r.exc_text or "")]


def test_the_fail_signal_keeps_the_query() -> None:
    assert heartbeat.fail_url("https://hc-ping.com/abc") == "https://hc-ping.com/abc/fail"
    assert heartbeat.fail_url("https://hc-ping.com/abc/?rid=1") == "https://hc-ping.com/abc/fail?rid=1"
    assert heartbeat.ping(None, ok=True) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f'[monitor]\nping_url = "ftp://hc-ping.com/{SECRET}"',
            'config.toml: field "monitor.ping_url": expected an http:// or https:// URL such as '
            "https://hc-ping.com/<uuid> (not shown: a secret)",
        ),
        (
            f'[monitor]\nping_url = "https:/{SECRET}"',
            'config.toml: field "monitor.ping_url": expected an http:// or https:// URL such as '
            "https://hc-ping.com/<uuid> (not shown: a secret)",
        ),
        ("[store]\nkeep = 0", 'config.toml: field "store.keep": expected a value ≥ 1, got 0'),
        ('[store]\nbackups = ""', 'config.toml: field "store.backups": must not be empty, got ""'),
    ],
)
def test_bad_monitor_and_backup_settings_are_one_line_each(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        config_from_text(text, tmp_path / "config.toml")
    assert str(caught.value) == message
    assert SECRET not in str(caught.value)


def test_the_heartbeat_and_backups_follow_a_reload_without_a_restart(tmp_path: Path, monitor: Monitor) -> None:
    sched, store, _ = scheduler(tmp_path)
    path = tmp_path / "config.toml"
    text = path.read_text().replace('path = "s.sqlite"\n', 'path = "s.sqlite"\nbackups = "backups"\n')
    path.write_text(text + f'\n[monitor]\nping_url = "{monitor.url}"\n')
    assert sched.holder.poll() == "config.toml reloaded: 1 rules; rules unchanged"  # no "restart to apply"
    assert "1 new alerts" in ran(sched)[0]
    assert len(backups_of(store.path, tmp_path / "backups")) == 1
    assert monitor.paths == [f"/ping/{SECRET}"]
    store.close()
