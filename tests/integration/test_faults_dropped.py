"""A connection that ends after Telegram took the message: sent at most twice, then ``unknown``, never a loop.

The fake Bot API reads the whole request (Telegram has the message), then closes the socket without an
answer ("drop": httpx's RemoteProtocolError) or resets it ("reset": ReadError). PTB raises NetworkError
for both; nothing tells the bot whether the message arrived, exactly like a late answer. Each test
runs the real PTB Application's bot (rate limiter included) and steps the delivery clock, so backoff
is exercised without waiting for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from telegram.error import NetworkError, TelegramError
from telegram.ext import ExtBot

from bot.chat.service import DELIVERY_SECONDS, Service
from bot.store import chats, outbox
from bot.store.db import Store
from bot.telegram.delivery import deliver_pending, outcome_unknown
from rules import Alert
from tests.support.factories import make_config
from tests.support.fake_telegram import FakeTelegram, Request
from tests.support.tg_helpers import ADMIN, ALLOWED, RATIO_RULE, build

A = ALLOWED


def start() -> dt.datetime:
    """A minute from now: rows the test just queued are due (taken per test, not at import: a long session)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)


@pytest.fixture
def service(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    telegram = {"api_base_url": tg.base_url, "allowed_chats": [A], "admin_chats": [ADMIN]}
    config = make_config(tmp_path, extra={"telegram": telegram}, rules=[RATIO_RULE])
    store = Store(config.store_path)
    yield Service(config, store, config_path=tmp_path / "config.toml")
    store.close()


@pytest.fixture
async def bot(service: Service) -> AsyncIterator[ExtBot[None]]:
    """The Application's own bot (read timeout 0.5 s, its rate limiter), initialised but not polling."""
    app = build(service)
    await app.initialize()
    try:
        yield app.bot
    finally:
        await app.shutdown()


async def no_sleep(seconds: float) -> None:
    return None


async def passes(bot: ExtBot[None], store: Store, minutes: int = 10) -> int:
    """Delivery every DELIVERY_SECONDS of stepped time for ``minutes``, as the running bot calls it."""
    now = start()
    end, sent = now + dt.timedelta(minutes=minutes), 0
    while now < end:
        sent += await deliver_pending(bot, store, now=now, sleep=no_sleep, admins=[ADMIN], read_timeout=5)
        now += dt.timedelta(seconds=DELIVERY_SECONDS)
    return sent


def alert(rule: str) -> Alert:
    return Alert(rule=rule, date=dt.date(2024, 7, 17), value=0.4, message=f"{rule} fired")


def rules_of(requests: list[Request]) -> list[str]:
    return [r.text.split("\n", 1)[0].removeprefix("🔔 <b>").removesuffix("</b>") for r in requests]


def rows(store: Store) -> list[tuple[str, str, int, int]]:
    """(rule, status, attempts, unanswered sends) per outbox row of chat A, in queue order."""
    found = store.db.execute(
        "SELECT alert_key, status, attempts, unanswered FROM outbox WHERE chat_id = ? ORDER BY id", [A]
    ).fetchall()
    return [(str(r[0]).split("|", 1)[0], str(r[1]), int(r[2]), int(r[3])) for r in found]


@pytest.mark.parametrize("fault", ["drop", "reset"])
async def test_a_message_taken_then_cut_off_is_sent_twice_at_most(
    tg: FakeTelegram, bot: ExtBot[None], service: Service, fault: str
) -> None:
    """Backed off as an outage, the one alert reached the chat once per retry; now: one retry, then unknown."""
    store = service.store
    chats.subscribe(store, A)
    outbox.enqueue_alerts(store, [alert("r1"), alert("r2")])
    tg.fail_next("sendMessage", fault, fault)
    await passes(bot, store)
    assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2"]  # the chat may hold r1 twice, never more
    assert rows(store) == [("r1", "unknown", 2, 2), ("r2", "sent", 1, 0)]
    notices = tg.sent(ADMIN)
    assert len(notices) == 1 and "r1|2024-07-17|firing" in notices[0].text and str(A) in notices[0].text


async def test_one_dropped_answer_is_followed_by_one_retry_at_once(
    tg: FakeTelegram, bot: ExtBot[None], service: Service
) -> None:
    """The retry goes in the same pass, with the long timeout; it is answered, so nothing is unknown."""
    store = service.store
    chats.subscribe(store, A)
    outbox.enqueue_alerts(store, [alert("r1"), alert("r2")])
    tg.fail_next("sendMessage", "drop")
    assert await deliver_pending(bot, store, now=start(), sleep=no_sleep, admins=[ADMIN], read_timeout=5) == 2
    assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2"]
    assert rows(store) == [("r1", "sent", 2, 1), ("r2", "sent", 1, 0)]
    assert tg.sent(ADMIN) == []


async def test_every_send_cut_off_for_an_hour_never_loops(
    tg: FakeTelegram, bot: ExtBot[None], service: Service
) -> None:
    """Four drops in a row over two alerts: each goes out twice and is marked unknown; the admins hear of both."""
    store = service.store
    chats.subscribe(store, A)
    outbox.enqueue_alerts(store, [alert("r1"), alert("r2")])
    tg.fail_next("sendMessage", *["drop"] * 4)
    await passes(bot, store, minutes=60)
    assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2", "r2"]
    assert [(rule, status) for rule, status, _, _ in rows(store)] == [("r1", "unknown"), ("r2", "unknown")]
    assert len(tg.sent(ADMIN)) == 2


async def test_an_alert_sent_as_a_photo_counts_the_same(tg: FakeTelegram, bot: ExtBot[None], service: Service) -> None:
    store = service.store
    chats.subscribe(store, A)
    chart = alert("with-chart")
    outbox.enqueue_alerts(store, [chart, alert("plain")])
    outbox.attach_photos(store, {chart.key: b"\x89PNG fake chart"})
    tg.fail_next("sendPhoto", "drop", "reset")
    await passes(bot, store)
    assert [r.method for r in tg.accepted(A)] == ["sendPhoto", "sendPhoto", "sendMessage"]
    assert rows(store) == [("with-chart", "unknown", 2, 2), ("plain", "sent", 1, 0)]
    assert len(tg.sent(ADMIN)) == 1


def _raised(exc: Exception, cause: BaseException | None) -> Exception:
    try:
        raise exc from cause  # what PTB's HTTPXRequest and its answer parsing raise
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    ("exc", "cause", "unknown"),
    [
        (NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("disconnected"), True),  # dropped
        (NetworkError("httpx.ReadError"), httpx.ReadError("reset by peer"), True),
        (NetworkError("httpx.WriteError"), httpx.WriteError("broken pipe"), True),
        (NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"), False),  # never left
        (NetworkError("Internal Server Error (500)"), None, False),  # Telegram's answer
        (NetworkError("Bad Gateway (502)"), TelegramError("Invalid server response"), False),  # a proxy's page
        (TelegramError("Invalid server response"), ValueError("not JSON"), True),  # a 200 we cannot read
    ],
)
def test_which_network_errors_leave_the_outcome_unknown(
    exc: Exception, cause: BaseException | None, unknown: bool
) -> None:
    assert outcome_unknown(_raised(exc, cause)) is unknown
