"""The real PTB Application against a fake Bot API server on 127.0.0.1 (tests/support/fake_telegram.py).

Updates go in through getUpdates; assertions read the sendMessage/sendPhoto requests the server
received. Nothing inside PTB is mocked.
"""

from __future__ import annotations

import logging

import pytest

from bot.chat import COMMANDS
from bot.chat.service import Service
from bot.jobs.check import run_check
from bot.jobs.notify import notifier
from bot.store import chats, outbox
from bot.telegram.delivery import deliver_pending
from bot.telegram.floodcontrol import FloodControl
from tests.support.fake_telegram import Failure, FakeTelegram
from tests.support.tg_helpers import ADMIN, ALLOWED, STRANGER, TOKEN, build, running


async def ask(tg: FakeTelegram, chat: int, text: str) -> str:
    """Send a message as ``chat`` and return the bot's next reply to it."""
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before)
    return tg.sent(chat)[before].text


async def test_acceptance_session(tg: FakeTelegram, service: Service) -> None:
    app = build(service)
    async with running(app):
        # The command menu is registered at start: public commands for all, everything for admins.
        menus = tg.calls("setMyCommands")
        public = [c["command"] for c in menus[0].params["commands"]]
        assert public == [c.name for c in COMMANDS if c.menu and not c.admin]  # buttons-only rows stay out
        assert any(m.params.get("scope", {}).get("chat_id") == ADMIN for m in menus)
        assert "reload" in [c["command"] for c in menus[-1].params["commands"]]

        ratio = await ask(tg, ALLOWED, "/ratio")
        assert "^RUT / ^GSPC" in ratio and "0.4200" in ratio
        assert "1 week: +0.0400" in ratio and "1 month: +0.0400" in ratio
        assert "rut-spx-above-0.4" in ratio and "0.0200 above 0.4" in ratio
        assert tg.sent(ALLOWED)[-1].params["parse_mode"] == "HTML"

        refusal = await ask(tg, STRANGER, "/ratio")
        assert "private" in refusal and str(STRANGER) in refusal
        assert "0.42" not in refusal and "^RUT" not in refusal
        # One refusal only: a second try from the stranger is answered with nothing.
        tg.push_text(STRANGER, "/status")
        await ask(tg, ALLOWED, "/help")
        assert len(tg.sent(STRANGER)) == 1

        assert "Subscribed" in await ask(tg, ALLOWED, "/subscribe")
        report = run_check(service.store, service.config, sink=notifier(service.config))
        assert [a.rule for a in report.alerts] == ["rut-spx-above-0.4", "rut-spx-above-0.41"]

        await tg.wait_until(lambda: sum("🔔" in r.text for r in tg.sent(ALLOWED)) >= 2)
        alerts = [r.text for r in tg.sent(ALLOWED) if "🔔" in r.text]
        assert len(alerts) == 2
        assert "Small caps gaining" in alerts[0] and "Second alert" in alerts[1]
        # Each alert carries the chart of its metric: a photo with the alert as its caption.
        photos = tg.calls("sendPhoto", ALLOWED)
        assert [p.text.split("\n")[0] for p in photos] == [
            "🔔 <b>rut-spx-above-0.4</b>",
            "🔔 <b>rut-spx-above-0.41</b>",
        ]
        # Another delivery pass and another check send nothing new.
        assert await deliver_pending(app.bot, service.store) == 0
        run_check(service.store, service.config, sink=outbox.enqueue_alerts)
        assert await deliver_pending(app.bot, service.store) == 0
        assert len([r for r in tg.sent(ALLOWED) if "🔔" in r.text]) == 2


async def test_429_then_500_then_ok_delivers_once_in_order(tg: FakeTelegram, service: Service) -> None:
    chats.subscribe(service.store, ALLOWED)
    tg.fail_next("sendMessage", Failure("429", retry_after=1), Failure("500"))
    run_check(service.store, service.config, sink=outbox.enqueue_alerts)
    app = build(service)
    async with running(app):
        await tg.wait_until(lambda: len(tg.sent(ALLOWED)) == 2, timeout=20)
    attempts = [(r.outcome, r.text.split("\n")[0]) for r in tg.calls("sendMessage", ALLOWED, outcome=None)]
    first, second = "🔔 <b>rut-spx-above-0.4</b>", "🔔 <b>rut-spx-above-0.41</b>"
    assert attempts == [("429", first), ("500", first), ("ok", first), ("ok", second)]
    assert outbox.counts(service.store) == {"sent": 2}


async def test_timeout_is_retried_and_the_alert_sent(tg: FakeTelegram, service: Service) -> None:
    chats.subscribe(service.store, ALLOWED)
    run_check(service.store, service.config, rules=service.config.rules[:1], sink=outbox.enqueue_alerts)
    tg.fail_next("sendMessage", Failure("delay", delay=3.0))
    app = build(service, request_timeout=1.0)  # wide of both: a busy machine must not time out the retry too
    async with running(app):
        await tg.wait_until(lambda: len(tg.sent(ALLOWED)) == 1, timeout=20)
    row = service.store.db.execute("SELECT status, attempts, last_error FROM outbox").fetchone()
    assert row[0] == "sent" and row[1] == 2 and row[2] is None
    assert [r.outcome for r in tg.calls("sendMessage", ALLOWED, outcome=None)] == ["delay", "ok"]


async def test_blocked_chat_is_unsubscribed(tg: FakeTelegram, service: Service) -> None:
    chats.subscribe(service.store, ALLOWED)
    chats.subscribe(service.store, ADMIN)
    tg.fail_next("sendMessage", Failure("403"))
    run_check(service.store, service.config, sink=outbox.enqueue_alerts)
    app = build(service)
    async with running(app):
        await tg.wait_until(lambda: len(tg.calls("sendMessage", outcome=None)) >= 3)
        assert await deliver_pending(app.bot, service.store) == 0
    blocked = tg.calls("sendMessage", outcome="403")[0].chat_id
    other = ADMIN if blocked == ALLOWED else ALLOWED
    assert chats.subscribers(service.store) == [other]
    assert len(tg.sent(other)) == 2 and tg.sent(blocked) == []
    statuses = service.store.db.execute("SELECT chat_id, status FROM outbox ORDER BY id").fetchall()
    assert sorted(s for c, s in statuses if c == blocked) == ["dropped", "dropped"]


async def test_usage_admin_and_unknown_commands(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        assert (await ask(tg, ALLOWED, "/alerts many")).startswith("Usage: /alerts")
        assert (await ask(tg, ALLOWED, "/mute forever")).startswith("Usage: /mute DURATION")
        assert "admins only" in await ask(tg, ALLOWED, "/reload")
        assert "Unknown command /nope" in await ask(tg, ALLOWED, "/nope")
        assert "reload" not in await ask(tg, ALLOWED, "/help")
        assert "/reload" in await ask(tg, ADMIN, "/help")
        reload = await ask(tg, ADMIN, "/reload")
        assert "config.toml" in reload and "admins only" not in reload


async def test_chart_is_sent_as_a_photo(tg: FakeTelegram, service: Service) -> None:
    pytest.importorskip("bot.answers.charts")
    async with running(build(service)):
        tg.push_text(ALLOWED, "/chart ratio max")
        await tg.wait_until(lambda: len(tg.sent(ALLOWED)) == 1, timeout=20)
    reply = tg.sent(ALLOWED)[0]
    if reply.method == "sendPhoto":
        assert reply.files["photo"].startswith(b"\x89PNG")
    else:  # charts could not draw this data: a one-line reason, never a traceback
        assert "Traceback" not in reply.text


async def test_errors_reach_the_admin_without_the_token(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        service.store.db.conn.close()  # the store breaks under the bot: a real, unexpected failure
        tg.push_text(ALLOWED, "/rules")
        await tg.wait_until(lambda: len(tg.sent(ADMIN)) == 1 and len(tg.sent(ALLOWED)) == 1)
    report = tg.sent(ADMIN)[0].text
    assert "Error" in report and "closed database" in report and TOKEN not in report
    assert "went wrong" in tg.sent(ALLOWED)[0].text


def test_the_application_uses_the_rate_limiter(service: Service) -> None:
    app = build(service)
    assert isinstance(app.bot.rate_limiter, FloodControl)
    assert app.bot.base_url.endswith(f"/bot{TOKEN}")


async def test_commands_for_other_bots_and_edited_commands_are_ignored(tg: FakeTelegram, service: Service) -> None:
    app = build(service)
    async with running(app):
        tg.push_text(ALLOWED, "/ratio@some_other_bot")
        tg.push_text(ALLOWED, "/subscribe", edited=True)  # editing an old command must not run it again
        assert (await ask(tg, ALLOWED, "/ratio@rotation_test_bot")).startswith("<b>^RUT / ^GSPC</b>")
        replies = [r.text for r in tg.sent(ALLOWED)]
        assert len(replies) == 1
    assert chats.subscribers(service.store) == []


@pytest.mark.parametrize("fault", ["drop", "reset", "500", "html", "403"])
async def test_a_reply_lost_to_a_telegram_fault_is_one_log_line_not_an_error_report(
    tg: FakeTelegram, service: Service, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the soak: a reply whose send Telegram dropped or refused with a 5xx was logged with a page of
    httpx traceback and reported to the admins as an error of the bot, once per lost reply. It is Telegram's
    fault, and the chat can ask again: one warning line, no report."""
    caplog.set_level(logging.INFO)
    async with running(build(service)):
        tg.fail_next("sendMessage", fault)
        tg.push_text(ALLOWED, "/help")
        await tg.wait_until(lambda: len(tg.calls("sendMessage", ALLOWED, outcome=None)) == 1)
        tg.push_text(ALLOWED, "/help")  # asked again: answered
        await tg.wait_until(lambda: len(tg.sent(ALLOWED)) == 1)
    assert tg.calls("sendMessage", ADMIN, outcome=None) == []
    ours = [r for r in caplog.records if fault != "html" or not r.name.startswith("telegram.")]  # PTB logs a page
    assert not [r for r in ours if r.exc_info], [r.getMessage() for r in ours if r.exc_info]
    [line] = [r for r in caplog.records if r.name == "bot.telegram.app" and r.levelno >= logging.WARNING]
    if fault == "403":  # blocked or removed: reported to the admins as a bug of the bot, before
        assert line.getMessage().startswith(f"could not answer chat {ALLOWED}: the chat blocked or removed the bot (")
    else:
        assert f"chat {ALLOWED}" in line.getMessage() and "ask again" in line.getMessage()


async def test_updates_telegram_did_not_give_are_one_line_about_fetching_not_about_a_chat(
    tg: FakeTelegram, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """An error fetching updates (no chat involved) was logged as "could not answer a chat"."""
    caplog.set_level(logging.INFO)
    async with running(build(service)):
        tg.fail_next("getUpdates", "500")
        await tg.wait_until(lambda: len(tg.calls("getUpdates", outcome="500")) == 1)
        tg.push_text(ALLOWED, "/help")  # polling goes on
        await tg.wait_until(lambda: len(tg.sent(ALLOWED)) == 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.app" and r.levelno >= logging.WARNING]
    assert [line for line in lines if line.startswith("could not fetch updates: Telegram did not take it (")], lines
    assert not [line for line in lines if "could not answer" in line], lines
