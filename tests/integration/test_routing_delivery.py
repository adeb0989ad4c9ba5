"""Per-chat routing and silences through the real delivery: the PTB Application against the fake Bot API.

Commands go in through getUpdates, alerts come from a real check through the notifier, and what each
chat got is read from the sendMessage/sendPhoto requests the fake server received. Time is injected
where silences expire: ``enqueue_alerts`` takes ``now``; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.service import Service
from bot.jobs.check import run_check
from bot.jobs.notify import notifier
from bot.store import outbox
from bot.store.db import Store
from bot.telegram.delivery import deliver_pending
from rules import Alert
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ADMIN, ALLOWED, RATIO_RULE, RULES, build, load_prices, running, tg_config

LOW, HIGH = "rut-spx-above-0.4", "rut-spx-above-0.41"  # both fire on the last day, LOW first


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def make_service(tmp_path: Path, tg: FakeTelegram, rules: list[dict[str, object]] = RULES) -> Service:
    config = tg_config(tmp_path, tg.base_url, rules=rules)
    store = Store(config.store_path)
    load_prices(store)
    return Service(config, store, config_path=tmp_path / "config.toml")


@pytest.fixture
def service(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    s = make_service(tmp_path, tg)
    yield s
    s.store.close()


async def ask(tg: FakeTelegram, chat: int, text: str) -> str:
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before)
    return tg.sent(chat)[before].text


def alerts_to(tg: FakeTelegram, chat: int) -> list[str]:
    """The rules of the alerts a chat received, in order (an alert's first line is "🔔 <b>RULE</b>")."""
    firsts = [r.text.split("\n", 1)[0] for r in tg.sent(chat)]
    return [f.removeprefix("🔔 <b>").removesuffix("</b>") for f in firsts if f.startswith("🔔 <b>")]


async def delivered(tg: FakeTelegram, service: Service) -> None:
    """Wait until the running bot has delivered every queued row."""
    await tg.wait_until(lambda: outbox.counts(service.store).get("pending", 0) == 0, timeout=20)


def check(service: Service) -> list[str]:
    report = run_check(service.store, service.config, sink=notifier(service.config))
    return [a.rule for a in report.alerts]


def recorded(store: Store) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT rule FROM alerts ORDER BY rule").fetchall()]


async def test_a_chat_subscribed_to_one_rule_receives_only_that_rule(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        reply = await ask(tg, ALLOWED, f"/subscribe {HIGH}")
        assert "Subscribed" in reply and f"alerts of rules {HIGH}." in reply
        assert "every alert" in await ask(tg, ADMIN, "/subscribe")
        assert check(service) == [LOW, HIGH]
        await delivered(tg, service)
    assert alerts_to(tg, ALLOWED) == [HIGH]
    assert alerts_to(tg, ADMIN) == [LOW, HIGH]


async def test_subscribe_without_arguments_widens_back_to_every_rule(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        await ask(tg, ALLOWED, f"/subscribe {HIGH}")
        assert f"Subscribed: alerts of rules {HIGH}." in await ask(tg, ALLOWED, "/subscriptions")
        assert "now gets every alert" in await ask(tg, ALLOWED, "/subscribe")
        check(service)
        await delivered(tg, service)
    assert alerts_to(tg, ALLOWED) == [LOW, HIGH]


async def test_severity_floor(tg: FakeTelegram, tmp_path: Path) -> None:
    rules = [{**RATIO_RULE, "severity": "info"}, {**RULES[1], "severity": "critical"}]
    service = make_service(tmp_path, tg, rules)
    try:
        async with running(build(service)):
            assert "severity warning or above" in await ask(tg, ALLOWED, "/subscribe severity>=warning")
            await ask(tg, ADMIN, "/subscribe severity>=info")
            assert check(service) == [LOW, HIGH]
            await delivered(tg, service)
    finally:
        service.store.close()
    assert alerts_to(tg, ALLOWED) == [HIGH]
    assert alerts_to(tg, ADMIN) == [LOW, HIGH]


async def test_rules_and_floor_together_must_both_match(tg: FakeTelegram, tmp_path: Path) -> None:
    rules = [{**RATIO_RULE, "severity": "info"}, {**RULES[1], "severity": "critical"}]
    service = make_service(tmp_path, tg, rules)
    try:
        async with running(build(service)):
            reply = await ask(tg, ALLOWED, f"/subscribe {LOW} {HIGH} severity>=critical")
            assert f"rules {LOW}, {HIGH} with severity critical or above" in reply
            await ask(tg, ADMIN, f"/subscribe {LOW} severity>=warning")  # LOW is info: nothing for ADMIN
            check(service)
            await delivered(tg, service)
    finally:
        service.store.close()
    assert alerts_to(tg, ALLOWED) == [HIGH]
    assert alerts_to(tg, ADMIN) == []


async def test_a_silence_stops_one_rule_in_one_chat_until_it_expires(tg: FakeTelegram, service: Service) -> None:
    app = build(service)
    async with running(app):
        await ask(tg, ALLOWED, "/subscribe")
        await ask(tg, ADMIN, "/subscribe")
        reply = await ask(tg, ALLOWED, f"/silence {LOW} 2h on holiday")
        assert "silenced" in reply and LOW in reply
        assert check(service) == [LOW, HIGH]
        await delivered(tg, service)
        assert alerts_to(tg, ALLOWED) == [HIGH]  # the other rule still comes
        assert alerts_to(tg, ADMIN) == [LOW, HIGH]  # the other chat still gets the silenced rule
        assert recorded(service.store) == [LOW, HIGH]  # recorded, just not queued for ALLOWED

        now = dt.datetime.now(dt.UTC)
        later = Alert(rule=LOW, date=dt.date(2030, 1, 2), value=0.42, message="again above 0.4")
        assert outbox.enqueue_alerts(service.store, [later], now=now + dt.timedelta(hours=1)) == 1  # ADMIN only
        await delivered(tg, service)
        assert alerts_to(tg, ALLOWED) == [HIGH]

        latest = Alert(rule=LOW, date=dt.date(2030, 1, 3), value=0.43, message="still above 0.4")
        assert outbox.enqueue_alerts(service.store, [latest], now=now + dt.timedelta(hours=2, minutes=1)) == 2
        await delivered(tg, service)
        assert await deliver_pending(app.bot, service.store) == 0
    # After the silence, alerts flow again; what was silenced never arrives (unlike a mute).
    assert alerts_to(tg, ALLOWED) == [HIGH, LOW]
    assert [r.text.split("\n")[1] for r in tg.sent(ALLOWED) if r.text.startswith(f"🔔 <b>{LOW}</b>")] == [
        "still above 0.4"
    ]
    assert alerts_to(tg, ADMIN) == [LOW, HIGH, LOW, LOW]


async def test_unsilence_ends_a_silence_early(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        await ask(tg, ALLOWED, "/subscribe")
        await ask(tg, ALLOWED, f"/silence {LOW} 1w")
        assert "no longer silenced" in await ask(tg, ALLOWED, f"/unsilence {LOW}")
        assert "not silenced" in await ask(tg, ALLOWED, f"/unsilence {LOW}")
        check(service)
        await delivered(tg, service)
    assert alerts_to(tg, ALLOWED) == [LOW, HIGH]


async def test_a_rules_own_chats_still_get_it_but_a_silence_there_holds(tg: FakeTelegram, tmp_path: Path) -> None:
    rules = [{**RATIO_RULE, "chats": [ADMIN]}, RULES[1]]
    service = make_service(tmp_path, tg, rules)
    try:
        async with running(build(service)):
            await ask(tg, ADMIN, f"/subscribe {HIGH}")  # the route does not narrow LOW's own chats
            await ask(tg, ALLOWED, f"/subscribe {HIGH}")
            check(service)
            await delivered(tg, service)
            assert alerts_to(tg, ADMIN) == [LOW, HIGH]
            assert alerts_to(tg, ALLOWED) == [HIGH]

            await ask(tg, ADMIN, f"/silence {LOW} 1d")
            again = Alert(rule=LOW, date=dt.date(2030, 1, 2), value=0.42, message="again", chats=(ADMIN,))
            assert outbox.enqueue_alerts(service.store, [again]) == 0
    finally:
        service.store.close()


async def test_unknown_rules_are_named_and_nothing_changes(tg: FakeTelegram, service: Service) -> None:
    async with running(build(service)):
        await ask(tg, ALLOWED, f"/subscribe {HIGH}")
        reply = await ask(tg, ALLOWED, f"/subscribe {LOW} nope")
        assert reply.count("\n") == 0 and "nope" in reply
        assert f"known rules: {LOW}, {HIGH}" in reply and "Nothing changed" in reply
        reply = await ask(tg, ALLOWED, "/silence nope 2h")
        assert reply.count("\n") == 0 and f"known rules: {LOW}, {HIGH}" in reply
        assert "Unknown severity" in await ask(tg, ALLOWED, "/subscribe severity>=loud")
        assert "No silences" in await ask(tg, ALLOWED, "/silences")
        check(service)
        await delivered(tg, service)
    assert alerts_to(tg, ALLOWED) == [HIGH]  # still narrowed to HIGH, nothing silenced
