"""Per-chat routing and silences in the store and the commands: what /subscriptions and /silences say,
that both survive a restart, a group's upgrade, and that each chat's daily digest shows its own rules."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.config import Config
from bot.jobs.check import digest_text
from bot.jobs.scheduler import queue_daily_digest
from bot.store import chats, outbox
from bot.store.db import Store
from rules import Alert
from tests.support.factories import seed_digest
from tests.support.tg_helpers import ADMIN, ALLOWED, RULES, tg_config

LOW, HIGH = (str(r["name"]) for r in RULES)


def say(service: Service, chat: int, line: str) -> str:
    return asyncio.run(dispatch(CommandContext(service, chat), line)).text


def alert(rule: str, day: int = 2, severity: str = "info") -> Alert:
    return Alert(rule=rule, date=dt.date(2030, 1, day), value=0.42, message=f"{rule} fired", severity=severity)


def queued(store: Store, chat: int) -> list[str]:
    return [r.alert_key.split("|")[0] for r in outbox.pending_rows(store, only_chats={chat}) if r.alert_key]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return tg_config(tmp_path)


@pytest.fixture
def service(config: Config, store: Store) -> Service:
    return Service(config, store)


def test_route_matching() -> None:
    assert chats.Route().matches("any", "info")
    assert chats.Route((LOW,)).matches(LOW, "info") and not chats.Route((LOW,)).matches(HIGH, "critical")
    floor = chats.Route(None, "warning")
    assert [floor.matches("r", s) for s in ("info", "warning", "critical")] == [False, True, True]
    both = chats.Route((LOW,), "warning")
    assert not both.matches(LOW, "info") and both.matches(LOW, "critical") and not both.matches(HIGH, "critical")


def test_enqueue_applies_routes_floors_and_silences(store: Store) -> None:
    for chat in (1, 2, 3):
        chats.subscribe(store, chat)
    chats.set_route(store, 1, chats.Route((HIGH,)))
    chats.set_route(store, 2, chats.Route(None, "critical"))
    now = dt.datetime(2030, 1, 2, 12, tzinfo=dt.UTC)
    chats.silence(store, 3, LOW, now + dt.timedelta(hours=1), "noisy")
    outbox.enqueue_alerts(store, [alert(LOW), alert(HIGH, severity="critical")], now=now)
    assert (queued(store, 1), queued(store, 2), queued(store, 3)) == ([HIGH], [HIGH], [HIGH])
    outbox.enqueue_alerts(store, [alert(LOW, day=3)], now=now + dt.timedelta(hours=1))  # expired: flows again
    assert queued(store, 3) == [HIGH, LOW]


def test_subscriptions_and_silences_show_the_truth(service: Service) -> None:
    assert "Not subscribed" in say(service, ALLOWED, "/subscriptions")
    assert "No silences in this chat" in say(service, ALLOWED, "/silences")

    assert "nothing will arrive" in say(service, ALLOWED, f"/subscribe {HIGH} severity>=warning")
    say(service, ALLOWED, "/mute 3h")
    say(service, ALLOWED, f"/silence {LOW} 2d on holiday <b>")
    say(service, ALLOWED, f"/silence {HIGH} 30m")
    text = say(service, ALLOWED, "/subscriptions")
    assert f"Subscribed: alerts of rules {HIGH} with severity warning or above." in text
    assert "That is, today: no rule in the config." in text  # both test rules are "info"
    assert "Muted until" in text
    assert f"{LOW} until" in text and "(in 2d)" in text and "on holiday &lt;b&gt;" in text
    listed = say(service, ALLOWED, "/silences")
    # the first to expire first, each with its expiry and reason
    assert listed.index(f"{HIGH} until") < listed.index(f"{LOW} until")
    assert "(in 30m)" in listed and "on holiday &lt;b&gt;" in listed
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert f"until {until:%Y-%m-%d}" in listed
    # Another chat sees none of it.
    assert "No silences in this chat" in say(service, ADMIN, "/silences")

    say(service, ALLOWED, f"/unsilence {HIGH}")
    say(service, ALLOWED, "/unmute")
    say(service, ALLOWED, "/subscribe")
    text = say(service, ALLOWED, "/subscriptions")
    assert "Subscribed: every alert." in text and "Not muted." in text
    assert f"{LOW} until" in text and f"{HIGH} until" not in text


def test_the_route_and_silences_survive_a_restart(config: Config, tmp_path: Path) -> None:
    first = Service(config, Store(config.store_path))
    say(first, ALLOWED, f"/subscribe {HIGH}")
    say(first, ADMIN, "/subscribe")
    say(first, ADMIN, f"/silence {HIGH} 4h quiet week")
    first.store.close()

    store = Store(config.store_path)
    try:
        second = Service(config, store)
        assert f"alerts of rules {HIGH}." in say(second, ALLOWED, "/subscriptions")
        assert "quiet week" in say(second, ADMIN, "/silences")
        outbox.enqueue_alerts(store, [alert(LOW), alert(HIGH)])
        assert queued(store, ALLOWED) == [HIGH]
        assert queued(store, ADMIN) == [LOW]
    finally:
        store.close()


def test_unsubscribe_forgets_the_route(service: Service) -> None:
    say(service, ALLOWED, f"/subscribe {HIGH}")
    say(service, ALLOWED, "/unsubscribe")
    assert "every alert" in say(service, ALLOWED, "/subscribe")


def test_a_group_upgrade_keeps_route_and_silences(store: Store) -> None:
    chats.subscribe(store, -1, chats.Route((HIGH,)))
    now = dt.datetime.now(dt.UTC)
    chats.silence(store, -1, LOW, now + dt.timedelta(hours=1))
    chats.migrate_chat(store, -1, -100)
    assert chats.route(store, -100) == chats.Route((HIGH,)) and chats.route(store, -1) == chats.Route()
    assert [s.rule for s in chats.silences(store, -100, now)] == [LOW]
    assert chats.silences(store, -1, now) == []


def test_a_routed_rule_removed_from_the_config_is_pointed_out(store: Store, tmp_path: Path) -> None:
    chats.subscribe(store, ALLOWED, chats.Route(("gone",)))
    text = say(Service(tg_config(tmp_path), store), ALLOWED, "/subscriptions")
    assert "No longer in the config: gone" in text


def test_each_chats_digest_shows_its_subscription(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)  # rules near, pend (ratio AAA/BBB) and ccc (close of CCC)
    chats.subscribe(store, 1, chats.Route(("near",)))
    chats.subscribe(store, 2)
    chats.subscribe(store, 3, chats.Route(None, "critical"))  # every seeded rule is "info"
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert queue_daily_digest(store, cfg, as_of, now) == 3
    rows = {r.chat_id: r.text for r in outbox.pending_rows(store)}

    assert "For this chat: rules near" in rows[1]
    assert "near:" in rows[1] and "pend:" not in rows[1] and "ccc:" not in rows[1]
    assert "CCC: last close" not in rows[1]  # the stale warning of a rule it does not follow
    assert "For this chat: all rules" in rows[2]
    assert all(f"{name}:" in rows[2] for name in ("near", "pend", "ccc"))
    assert "For this chat: rules none" in rows[3] and "near:" not in rows[3]
    # /digest in a chat is the digest that chat gets each evening.
    assert digest_text(store, cfg, as_of=as_of, only=("near",)) == rows[1]
    ask = say(Service(cfg, store), 1, "/digest")
    assert "For this chat: rules near" in ask and "ccc:" not in ask
