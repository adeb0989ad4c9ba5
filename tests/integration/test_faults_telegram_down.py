"""Telegram down for an hour: alerts wait in the outbox, back off, and arrive afterwards in order, once.

No test sleeps an hour: ``deliver_pending`` takes ``now`` and ``sleep``, so the clock is stepped
every ``DELIVERY_SECONDS`` (as the running bot calls it) through the outage. Two outages: a proxy
answering 502 Bad Gateway (the same client recovers), and nothing listening at all (connection
refused; the outbox, not the client, carries the state across).
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.chat.service import DELIVERY_SECONDS
from bot.cli.main import main
from bot.store import chats, outbox
from bot.store.db import Store
from bot.telegram.delivery import BACKOFF_MAX, backoff_seconds, deliver_pending
from rules import Alert
from tests.support.fake_telegram import FakeTelegram
from tests.support.faultkit import TOKEN, received

A, B = 111, 222
OUTAGE = dt.timedelta(hours=1)


class Outage(FakeTelegram):
    """A fake Bot API behind a proxy: while ``down``, every call gets the proxy's 502 HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refused: list[str] = []  # the body of each call refused

    def __enter__(self) -> Outage:
        self.start()
        return self

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        if not self.down:
            super()._handle(h)
            return
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode(errors="replace")
        self.refused.append(body)
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        h.send_response(502)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(page)))
        h.end_headers()
        h.wfile.write(page)


def start_now() -> dt.datetime:
    """A minute past the real clock, taken after the test queued its rows (due at the real now) so they are due.

    Never taken at import: on a busy machine the suite reaches this module minutes later, and a start taken then
    lies before the rows' due time, so the stepped clock never reaches them.
    """
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)


def dead_url() -> str:
    """A Bot API address where nothing listens: every call is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/bot"


@asynccontextmanager
async def bot_at(base_url: str) -> AsyncIterator[Bot]:
    request = HTTPXRequest(connect_timeout=2, read_timeout=2)
    async with Bot(TOKEN, base_url=base_url, request=request) as bot:
        yield bot


async def no_sleep(seconds: float) -> None:
    return None


def alert(rule: str, day: int) -> Alert:
    return Alert(rule=rule, date=dt.date(2024, 7, day), value=0.4, message=f"{rule} fired")


def max_attempts(span: dt.timedelta) -> int:
    """Attempts the backoff allows in ``span``: the first at once, then after 2, 4, 8, … seconds."""
    attempts, waited = 1, 0.0
    while waited + backoff_seconds(attempts) <= span.total_seconds() + DELIVERY_SECONDS:
        waited += backoff_seconds(attempts)
        attempts += 1
    return attempts


async def step_through(
    bot: Bot, store: Store, start: dt.datetime, end: dt.datetime, during: Callable[[dt.datetime], None] | None = None
) -> tuple[int, dt.datetime]:
    """Call ``deliver_pending`` every DELIVERY_SECONDS of fake time from ``start`` to ``end``."""
    now, sent = start, 0
    while now < end:
        if during:
            during(now)
        sent += await deliver_pending(bot, store, now=now, sleep=no_sleep)
        now += dt.timedelta(seconds=DELIVERY_SECONDS)
    return sent, now


def attempts(store: Store) -> dict[tuple[str, int], int]:
    rows = store.db.execute("SELECT alert_key, chat_id, attempts FROM outbox").fetchall()
    return {(str(r[0]).split("|", 1)[0], int(r[1])): int(r[2]) for r in rows}


@pytest.mark.parametrize("mode", ["502", "refused"])
async def test_an_hour_down_then_everything_arrives_in_order_once(store: Store, mode: str) -> None:
    chats.subscribe(store, A)
    chats.subscribe(store, B)
    outbox.enqueue_alerts(store, [alert("r1", 17), alert("r2", 17), alert("r3", 17)])
    start = start_now()
    queued_later = False

    def the_next_check_runs(now: dt.datetime) -> None:
        nonlocal queued_later
        if not queued_later and now >= start + OUTAGE / 2:  # alerts of a check during the outage
            outbox.enqueue_alerts(store, [alert("r4", 18), alert("r5", 18)])
            queued_later = True

    with Outage() as tg:
        async with bot_at(tg.base_url) as live:  # started while Telegram was up (getMe)
            tg.down = True
            refused_request = HTTPXRequest(connect_timeout=2, read_timeout=2)
            down = live if mode == "502" else Bot(TOKEN, base_url=dead_url(), request=refused_request)
            try:
                sent, recovered_at = await step_through(down, store, start, start + OUTAGE, the_next_check_runs)
            finally:
                await refused_request.shutdown()
            assert sent == 0 and queued_later
            assert tg.sent() == []
            assert outbox.counts(store) == {"pending": 10}

            # Backoff, not hammering: only each chat's head row was tried, at most as often as backoff allows.
            tried = {k: n for k, n in attempts(store).items() if n}
            assert set(tried) == {("r1", A), ("r1", B)}
            assert all(max_attempts(OUTAGE) - 1 <= n <= max_attempts(OUTAGE) for n in tried.values()), (
                tried,
                max_attempts(OUTAGE),
            )
            if mode == "502":
                assert len(tg.refused) == sum(tried.values())
                assert all("r1+fired" in body for body in tg.refused)
            else:
                assert tg.refused == []

            tg.down = False
            # Within one capped backoff of the recovery everything is out, and nothing goes twice.
            deadline = recovered_at + dt.timedelta(seconds=BACKOFF_MAX + DELIVERY_SECONDS)
            sent, _ = await step_through(live, store, recovered_at, deadline)
            assert sent == 10
            assert await deliver_pending(live, store, now=deadline + dt.timedelta(hours=1), sleep=no_sleep) == 0

    assert outbox.counts(store) == {"sent": 10}
    for chat in (A, B):
        assert received(tg.requests, chat) == ["r1", "r2", "r3", "r4", "r5"]


async def test_flapping_server_errors_keep_each_chat_in_order(store: Store) -> None:
    """Five 500s in a row, spread over both chats' head rows: each chat still gets r1 then r2, once."""
    chats.subscribe(store, A)
    chats.subscribe(store, B)
    outbox.enqueue_alerts(store, [alert("r1", 17), alert("r2", 17)])
    start = start_now()
    with Outage() as tg:
        tg.fail_next("sendMessage", *["500"] * 5)
        async with bot_at(tg.base_url) as bot:
            await step_through(bot, store, start, start + dt.timedelta(minutes=10))
    for chat in (A, B):
        assert received(tg.requests, chat) == ["r1", "r2"]
    assert outbox.counts(store) == {"sent": 4}


def test_run_started_while_telegram_is_down_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "store.sqlite"\n[telegram]\napi_base_url = "{dead_url()}"\nallowed_chats = [{A}]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    result = CliRunner().invoke(main, ["--config", str(config), "run"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: ") and TOKEN not in result.stderr
