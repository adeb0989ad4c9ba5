"""Outbox delivery with a real PTB Bot against the fake Bot API: order, retries, mute, restarts.

Time is stepped, not waited for: ``deliver_pending`` takes ``now`` and a ``sleep`` that records
the pauses it asked for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.store import chats, iso, outbox
from bot.store.db import Store
from bot.telegram.delivery import backoff_seconds, deliver_pending
from rules import Alert
from tests.support.fake_telegram import Failure, FakeTelegram
from tests.support.tg_helpers import TOKEN

A, B = 111, 222


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=5, connect_timeout=5)  # no test here waits for a timeout
    async with Bot(TOKEN, base_url=tg.base_url, request=request) as b:
        yield b


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def alert(rule: str, day: int = 17, message: str | None = None) -> Alert:
    return Alert(rule=rule, date=dt.date(2024, 7, day), value=0.4, message=message or f"{rule} fired")


def queue(store: Store, *alerts: Alert) -> None:
    outbox.enqueue_alerts(store, list(alerts))


def texts(tg: FakeTelegram, chat: int) -> list[str]:
    return [r.text.split("\n", 1)[1] for r in tg.sent(chat)]


async def test_in_order_per_chat_and_paced(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    chats.subscribe(store, B)
    queue(store, alert("r1"), alert("r2"), alert("r3"))
    sleeps = Sleeps()
    assert await deliver_pending(bot, store, now=now, sleep=sleeps) == 6
    assert texts(tg, A) == texts(tg, B) == ["r1 fired", "r2 fired", "r3 fired"]
    # One pause between consecutive sends to the same chat, for each chat; none before the first.
    assert sleeps.calls == [1.0, 1.0, 1.0, 1.0]
    assert await deliver_pending(bot, store, now=now, sleep=sleeps) == 0


async def test_message_text_is_escaped_html(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    queue(store, alert("s&p<x>", message="S&P 500 < 5000 & <b>bold</b>"))
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 1
    sent = tg.sent(A)[0]
    assert sent.params["parse_mode"] == "HTML"
    assert sent.text == "🔔 <b>s&amp;p&lt;x&gt;</b>\nS&amp;P 500 &lt; 5000 &amp; &lt;b&gt;bold&lt;/b&gt;"


async def test_server_error_keeps_order_and_backs_off(
    tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime
) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"), alert("r2"))
    tg.fail_next("sendMessage", "500")
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 0
    row = store.db.execute("SELECT status, attempts, next_attempt_at, last_error FROM outbox WHERE id = 1").fetchone()
    assert row[0] == "pending" and row[1] == 1 and "Internal Server Error" in row[3]
    assert row[2] == iso(now + dt.timedelta(seconds=backoff_seconds(1)))
    # Before the backoff ends nothing goes, not even r2 (it must not overtake r1).
    assert await deliver_pending(bot, store, now=now + dt.timedelta(seconds=1), sleep=Sleeps()) == 0
    assert await deliver_pending(bot, store, now=now + dt.timedelta(seconds=3), sleep=Sleeps()) == 2
    assert texts(tg, A) == ["r1 fired", "r2 fired"]


async def test_retry_after_is_waited_out(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"))
    tg.fail_next("sendMessage", Failure("429", retry_after=7))
    sleeps = Sleeps()
    assert await deliver_pending(bot, store, now=now, sleep=sleeps) == 1
    assert sleeps.calls == [7.0]
    assert [r.outcome for r in tg.calls("sendMessage", A, outcome=None)] == ["429", "ok"]


async def test_long_retry_after_is_rescheduled(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"))
    tg.fail_next("sendMessage", Failure("429", retry_after=120))
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 0
    due = store.db.execute("SELECT next_attempt_at FROM outbox").fetchone()[0]
    assert due == iso(now + dt.timedelta(seconds=120))
    assert await deliver_pending(bot, store, now=now + dt.timedelta(seconds=121), sleep=Sleeps()) == 1


async def test_bad_request_fails_the_row_not_the_queue(
    tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime
) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"), alert("r2"))
    tg.fail_next("sendMessage", "400")
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 1
    assert texts(tg, A) == ["r2 fired"]
    assert outbox.counts(store) == {"failed": 1, "sent": 1}


async def test_forbidden_unsubscribes_and_drops(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"), alert("r2"))
    tg.fail_next("sendMessage", "403")
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 0
    assert chats.subscribers(store) == []
    assert outbox.counts(store) == {"dropped": 2}
    queue(store, alert("r3", day=18))
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 0
    assert len(tg.calls("sendMessage", outcome=None)) == 1


async def test_muted_chat_waits_until_the_mute_ends(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, A)
    chats.subscribe(store, B)
    chats.mute(store, A, now + dt.timedelta(hours=2))
    queue(store, alert("r1"))
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 1
    assert tg.sent(A) == [] and len(tg.sent(B)) == 1
    assert await deliver_pending(bot, store, now=now + dt.timedelta(hours=3), sleep=Sleeps()) == 1
    assert texts(tg, A) == ["r1 fired"]


async def test_restart_resumes_without_resending(
    tg: FakeTelegram, store: Store, tmp_path: Path, now: dt.datetime
) -> None:
    chats.subscribe(store, A)
    queue(store, alert("r1"), alert("r2"))
    tg.fail_next("sendMessage", Failure("delay", delay=0.0))  # r1 goes through on the first bot
    tg.fail_next("sendMessage", "500")  # r2 fails: still queued when the bot "crashes"
    async with Bot(TOKEN, base_url=tg.base_url) as first:
        assert await deliver_pending(first, store, now=now, sleep=Sleeps()) == 1
    store.close()
    reopened = Store(store.path)
    try:
        async with Bot(TOKEN, base_url=tg.base_url) as second:
            later = now + dt.timedelta(minutes=5)
            assert await deliver_pending(second, reopened, now=later, sleep=Sleeps()) == 1
            assert await deliver_pending(second, reopened, now=later, sleep=Sleeps()) == 0
    finally:
        reopened.close()
    delivered = [r.text for r in tg.calls("sendMessage", A, outcome=None) if r.outcome in ("ok", "delay")]
    assert [t.split("\n", 1)[1] for t in delivered] == ["r1 fired", "r2 fired"]


async def test_only_and_skip_chats(tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, 0)
    chats.subscribe(store, A)
    queue(store, alert("r1"))
    assert await deliver_pending(bot, store, now=now, skip_chats=(0,), sleep=Sleeps()) == 1
    assert [r.chat_id for r in tg.sent()] == [A]
    assert outbox.counts(store) == {"pending": 1, "sent": 1}


async def test_overlapping_passes_never_share_a_chat(
    tg: FakeTelegram, bot: Bot, store: Store, now: dt.datetime
) -> None:
    """The running bot starts a pass while the last may still be sending (a 429, a hung send): each row goes once."""
    chats.subscribe(store, A)
    chats.subscribe(store, B)
    queue(store, alert("r1"), alert("r2"), alert("r3"))
    first, second = await asyncio.gather(
        deliver_pending(bot, store, now=now, sleep=Sleeps()), deliver_pending(bot, store, now=now, sleep=Sleeps())
    )
    assert (first, second) == (6, 0)  # the second found both chats taken by the first
    assert texts(tg, A) == texts(tg, B) == ["r1 fired", "r2 fired", "r3 fired"]
    assert await deliver_pending(bot, store, now=now, sleep=Sleeps()) == 0
