"""A 429 or a hung send in one chat holds that chat only, through the real PTB Application and the fake Bot API.

Telegram's 429 does not say whose limit it was; the bot takes it as the chat's own unless several chats get one
(bot/telegram/floodcontrol.py). Flood waits run on a stepped clock: a chat stays in its wait until the test
steps past it, so every check that another chat was answered meanwhile needs no real wait and no timing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import alert_buttons
from bot.chat.service import Service
from bot.store import chats, iso, outbox
from bot.store.db import Store
from rules import Alert
from tests.support.factories import make_config
from tests.support.fake_telegram import Failure, FakeTelegram
from tests.support.stepped_clock import SteppedClock
from tests.support.tg_helpers import ADMIN, RATIO_RULE, build, load_prices, running

A, B, C = 1001, 1002, 1003  # A and C are answered while B (and, for the global case, A) are held


@pytest.fixture
def service(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    telegram = {"api_base_url": tg.base_url, "allowed_chats": [A, B, C], "admin_chats": [ADMIN]}
    config = make_config(tmp_path, extra={"telegram": telegram}, rules=[RATIO_RULE])
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=tmp_path / "config.toml")
    store.close()


def queue_alert(store: Store, day: int) -> None:
    """One alert of the ratio rule for every subscriber (without its chart: a plain sendMessage)."""
    alert = Alert(rule=RATIO_RULE["name"], date=dt.date(2024, 7, day), value=0.41, message=f"alert of July {day}")
    outbox.enqueue_alerts(store, [alert])


def alerts(tg: FakeTelegram, chat: int) -> list[str]:
    return [r.text.split("\n", 1)[1] for r in tg.sent(chat) if r.text.startswith("🔔")]


def sends(tg: FakeTelegram, chat: int) -> list[str]:
    return [r.outcome for r in tg.calls("sendMessage", chat, outcome=None)]


async def answer(tg: FakeTelegram, chat: int, text: str) -> str:
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before, timeout=15)
    return tg.sent(chat)[before].text


async def test_a_429_in_one_chat_does_not_hold_another_chats_reply(tg: FakeTelegram, service: Service) -> None:
    clock = SteppedClock()
    tg.fail_chat(B, Failure("429", retry_after=20))
    async with running(build(service, clock=clock.clock)):
        tg.push_text(B, "/ratio")
        await tg.wait_until(lambda: sends(tg, B) == ["429"])
        # B waits out its 20 s (which never pass until the test steps them); A is answered meanwhile.
        assert "^RUT / ^GSPC" in await answer(tg, A, "/ratio")
        assert tg.sent(B) == []
        tg.fail_chat(B, None)
        clock.advance(20)
        await tg.wait_until(lambda: len(tg.sent(B)) == 1)
    assert sends(tg, B) == ["429", "ok"] and "^RUT / ^GSPC" in tg.sent(B)[0].text


async def test_a_long_429_gives_up_that_reply_in_one_line_and_asks_nothing_until_it_ends(
    tg: FakeTelegram, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SteppedClock()
    tg.fail_chat(B, Failure("429", retry_after=90))
    caplog.set_level(logging.INFO)
    async with running(build(service, clock=clock.clock)):
        tg.push_text(B, "/alerts")
        await tg.wait_until(lambda: sends(tg, B) == ["429"])
        assert "^RUT / ^GSPC" in await answer(tg, A, "/ratio")
        tg.fail_chat(B, None)
        clock.advance(1.5)
        tg.push_text(B, "/ratio")  # still inside B's 90 s: not even sent (Telegram would refuse it)
        await tg.wait_until(lambda: sum("could not answer chat 1002" in r.message for r in caplog.records) == 2)
        assert sends(tg, B) == ["429"]
        refused = [r.message for r in caplog.records if "could not answer chat 1002" in r.message]
        assert refused[1] == (  # the wait still running, in whole seconds as Telegram says it
            "could not answer chat 1002: Telegram did not take it (Flood control exceeded. Retry in 89 seconds);"
            " the chat can ask again"
        )
        clock.advance(88.5)
        assert "^RUT / ^GSPC" in await answer(tg, B, "/ratio")
    assert sends(tg, B) == ["429", "ok"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # no traceback, no report to the admins
    assert tg.sent(ADMIN) == []
    flood = [r.message for r in caplog.records if r.name == "bot.telegram.floodcontrol"]
    assert flood == ["flood control: Telegram asked chat 1002 to wait 90 s: that chat waits, the others go on"]


@pytest.mark.parametrize("retry_after", [25, 90])  # waited out in line, and rescheduled
async def test_a_429_in_one_chat_does_not_hold_another_chats_next_alert(
    tg: FakeTelegram, service: Service, retry_after: int
) -> None:
    clock = SteppedClock()
    chats.subscribe(service.store, A)
    chats.subscribe(service.store, B)
    tg.fail_chat(B, Failure("429", retry_after=retry_after))
    queue_alert(service.store, 17)
    started = dt.datetime.now(dt.UTC)
    async with running(build(service, clock=clock.clock)):
        await tg.wait_until(lambda: alerts(tg, A) == ["alert of July 17"] and sends(tg, B) == ["429"])
        queue_alert(service.store, 18)  # A's next alert, while B still waits
        await tg.wait_until(lambda: alerts(tg, A) == ["alert of July 17", "alert of July 18"], timeout=15)
        assert alerts(tg, B) == []
        tg.fail_chat(B, None)
        clock.advance(retry_after)
        if retry_after == 25:  # the pass waiting for B goes on; its next pass sends B's second alert
            await tg.wait_until(lambda: alerts(tg, B) == ["alert of July 17", "alert of July 18"])
    if retry_after == 90:  # rescheduled, not slept through: B's first row is due when Telegram said it may be
        first = "SELECT next_attempt_at FROM outbox WHERE chat_id = ? ORDER BY id LIMIT 1"
        due = service.store.db.execute(first, [B]).fetchone()
        assert due[0] >= iso(started + dt.timedelta(seconds=90)) and alerts(tg, B) == []
    assert sends(tg, B)[0] == "429" and sends(tg, B).count("429") == 1


async def test_a_hung_send_in_one_chat_does_not_hold_another_chats_reply_or_next_alert(
    tg: FakeTelegram, service: Service
) -> None:
    chats.subscribe(service.store, A)
    chats.subscribe(service.store, B)
    tg.fail_chat(B, Failure("hang", delay=120))  # answered only when the test releases it
    queue_alert(service.store, 17)
    async with running(build(service, request_timeout=60)):  # the client waits longer than this test runs
        await tg.wait_until(lambda: alerts(tg, A) == ["alert of July 17"] and sends(tg, B) == ["hang"])
        queue_alert(service.store, 18)  # A's next alert, while B's first still hangs
        await tg.wait_until(lambda: alerts(tg, A) == ["alert of July 17", "alert of July 18"], timeout=15)
        tg.push_text(B, "/ratio")  # B's reply hangs too
        await tg.wait_until(lambda: sends(tg, B) == ["hang", "hang"])
        assert "^RUT / ^GSPC" in await answer(tg, A, "/ratio")
        tg.fail_chat(B, None)
        tg.release()
        await tg.wait_until(lambda: alerts(tg, B) == ["alert of July 18"])
    # Telegram has each of B's alerts once, in order, and its reply.
    assert [r.text.split("\n", 1)[-1] for r in tg.accepted(B) if r.text.startswith("🔔")] == [
        "alert of July 17",
        "alert of July 18",
    ]
    assert sends(tg, B) == ["hang", "hang", "ok"] and "^RUT / ^GSPC" in tg.accepted(B)[1].text


async def test_429s_in_several_chats_at_once_hold_every_chat(
    tg: FakeTelegram, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SteppedClock()
    tg.fail_chat(A, Failure("429", retry_after=20))
    tg.fail_chat(B, Failure("429", retry_after=20))
    caplog.set_level(logging.INFO)
    async with running(build(service, clock=clock.clock)):
        tg.push_text(A, "/ratio")
        await tg.wait_until(lambda: sends(tg, A) == ["429"])
        tg.push_text(B, "/ratio")
        await tg.wait_until(lambda: sends(tg, B) == ["429"])
        tg.push_text(C, "/ratio")
        await clock.wait_sleepers(3)  # A's and B's retries, and C's first send: all wait out the bot's 20 s
        assert sends(tg, C) == []
        tg.fail_chat(A, None)
        tg.fail_chat(B, None)
        clock.advance(20)
        await tg.wait_until(lambda: all(len(tg.sent(chat)) == 1 for chat in (A, B, C)))
    flood = [r.message for r in caplog.records if r.name == "bot.telegram.floodcontrol"]
    assert flood[1] == (
        "flood control: Telegram asked chat 1002 to wait 20 s while chat 1001 waits too: taken as the bot's own"
        " limit, every chat waits"
    )


async def test_a_429_to_a_request_for_no_chat_holds_every_chat(tg: FakeTelegram, service: Service) -> None:
    """An answer to a button press names no chat: Telegram's 429 to it can only be the bot's own limit."""
    clock = SteppedClock()
    tg.fail_next("answerCallbackQuery", Failure("429", retry_after=20))
    async with running(build(service, clock=clock.clock)):
        silence = alert_buttons(str(RATIO_RULE["name"]))[0][2]
        tg.push_press(A, silence.data)
        await tg.wait_until(lambda: bool(tg.calls("answerCallbackQuery", outcome="429")))
        tg.push_text(B, "/ratio")
        await clock.wait_sleepers(2)  # A's reply to the press and B's answer wait out the bot's 20 s
        assert tg.sent(A) == tg.sent(B) == []
        clock.advance(20)
        await tg.wait_until(lambda: len(tg.sent(A)) == len(tg.sent(B)) == 1)
        # Once the waits are over, a 429 to one chat is that chat's own again.
        tg.fail_chat(A, Failure("429", retry_after=20))
        tg.push_text(A, "/ratio")
        await tg.wait_until(lambda: sends(tg, A).count("429") == 1)
        assert "^RUT / ^GSPC" in await answer(tg, B, "/ratio")
        tg.fail_chat(A, None)
        clock.advance(20)  # A's reply, waiting, is sent: the Application ends only once its handlers have
        await tg.wait_until(lambda: len(tg.sent(A)) == 2)
