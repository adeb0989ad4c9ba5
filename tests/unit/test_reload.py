"""Hot reload under a running scheduler: a valid edit is picked up, a broken one keeps the last good rules."""

from __future__ import annotations

from pathlib import Path

from bot.chat.service import Service
from bot.config.reload import POLL_SECONDS, ConfigHolder, reload_config
from bot.jobs.scheduler import BotScheduler
from bot.store.db import Store
from tests.support.scheduler_helpers import Clock, Fetch, et, mark_done, seed_prices, write_config


def test_valid_edit_is_picked_up_broken_edit_keeps_previous_rules_firing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path, threshold="0.5")
    holder = ConfigHolder.load(path)
    store = Store(holder.config.store_path)
    seed_prices(store)
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    clock = Clock(et(2024, 7, 26, 12, 0))
    sched = BotScheduler(holder, now=clock, fetch_prices=Fetch(), fetch_cpi=Fetch())

    assert holder.poll() is None  # nothing changed yet
    write_config(path, threshold="0.4")
    message = holder.poll()
    assert message == "config.toml reloaded: 1 rules; changed r1"
    assert holder.config.rules[0].spec.threshold == 0.4

    write_config(path, threshold='"0,4"')
    message = holder.poll()
    assert message is not None
    assert message.startswith("config.toml has errors; still running the previous 1 rules. Fix:")
    assert 'rule "r1"' in message and "threshold" in message
    assert holder.config.rules[0].spec.threshold == 0.4
    assert holder.last_error is not None
    assert holder.poll() is None  # the same broken file is reported once

    clock.t = et(2024, 7, 26, 17, 31)
    [line] = sched.tick()
    assert "1 new alerts" in line  # the previous (good) rules fired
    assert [a["rule"] for a in store.recent_alerts()] == ["r1"]


def test_reload_command_reports_even_without_change(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path)
    holder = ConfigHolder.load(path)
    assert reload_config(holder) == "config.toml reloaded: 1 rules; rules unchanged"
    path.write_text("not toml [")
    assert reload_config(holder).startswith("config.toml has errors; still running the previous 1 rules")


def test_restart_only_settings_are_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path)
    holder = ConfigHolder.load(path)
    path.write_text(path.read_text().replace('path = "s.sqlite"', 'path = "other.sqlite"'))
    assert holder.poll() == "config.toml reloaded: 1 rules; rules unchanged (restart to apply [store])"


async def test_watcher_notifies_admins(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path)
    holder = ConfigHolder.load(path)
    sent: list[str] = []

    class Admins(Service):
        async def notify_admins(self, text: str) -> None:
            sent.append(text)

    service = Admins(holder.config, Store(holder.config.store_path), path)
    holder = service.config_holder
    (watch,) = [j for j in service.periodic if j.name == "config-watch"]
    assert watch.seconds() == POLL_SECONDS
    await watch.fn()
    assert sent == []  # nothing changed yet
    write_config(path, threshold="0.45")
    await watch.fn()
    assert sent == ["config.toml reloaded: 1 rules; changed r1"]
    assert holder.config.rules[0].spec.threshold == 0.45
    assert holder.last_error is None
