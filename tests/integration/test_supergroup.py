"""A group upgraded to a supergroup can stop its own alerts before an admin updates ``allowed_chats``.

Its subscription, mute and silences follow it to the new id (bot/telegram/delivery.py, when Telegram refuses a
send with "group chat was upgraded"); the chat guard used to refuse the new id as "private", so the group could
neither see nor stop what it receives. The real PTB Application runs against the fake Bot API; the migration
happens as in production, through the Application's own delivery job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.service import Service
from bot.jobs.check import run_check
from bot.store import chats, outbox
from bot.store.db import Store
from tests.support.factories import make_config
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ADMIN, ALLOWED, RULES, STRANGER, build, load_prices, running

GROUP, SUPERGROUP = -4001, -1004001
RULE = "rut-spx-above-0.41"


@pytest.fixture
def svc(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    telegram = {"api_base_url": tg.base_url, "allowed_chats": [ALLOWED, GROUP], "admin_chats": [ADMIN]}
    config = make_config(tmp_path, extra={"telegram": telegram}, rules=RULES)
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=tmp_path / "config.toml")
    store.close()


async def ask(tg: FakeTelegram, chat: int, text: str) -> str:
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before)
    return tg.sent(chat)[before].text


async def test_the_new_id_manages_its_own_subscription_until_the_config_names_it(
    tg: FakeTelegram, svc: Service
) -> None:
    store = svc.store
    chats.subscribe(store, GROUP)
    chats.silence(store, GROUP, RULE, dt.datetime.now(dt.UTC) + dt.timedelta(days=2), "too noisy")
    tg.migrate(GROUP, SUPERGROUP)
    run_check(store, svc.config, sink=outbox.enqueue_alerts)  # the alert whose send tells of the upgrade
    async with running(build(svc)):
        await tg.wait_until(lambda: chats.subscribers(store) == [SUPERGROUP] and not outbox.pending_rows(store))
        assert any(r.text.startswith("🔔") for r in tg.sent(SUPERGROUP))  # the alerts followed the group

        subscriptions = await ask(tg, SUPERGROUP, "/subscriptions")
        assert "private" not in subscriptions
        assert "Subscribed: every alert." in subscriptions and f"{RULE} until" in subscriptions
        silences = await ask(tg, SUPERGROUP, "/silences")
        assert RULE in silences and "too noisy" in silences
        assert (await ask(tg, SUPERGROUP, "/unsubscribe")).startswith("Unsubscribed")
        assert chats.subscribers(store) == []

        # Anything else waits for the admin: one line saying why and what to change.
        ratio = await ask(tg, SUPERGROUP, "/ratio")
        assert "^RUT" not in ratio
        assert str(SUPERGROUP) in ratio and str(GROUP) in ratio and "allowed_chats" in ratio
        assert "/unsubscribe" in ratio
        # A chat that was never allowed is refused as before.
        assert "private" in await ask(tg, STRANGER, "/subscriptions")
