"""The track-record lines of one check's alerts: one replay for every rule missing from the cache, not one per alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import bot.market.track as track
from bot.jobs.check import run_check
from bot.jobs.notify import notifier
from bot.market.replay import run_replay
from bot.store import chats
from bot.store.db import Store
from tests.integration.test_alert_charts import several_alerts
from tests.integration.test_charts import _config, _fill


def _count_replays(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every replay the track records run (bot.market.track's own name for it) from now on."""
    calls: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("rule_names"))
        return run_replay(*args, **kwargs)

    monkeypatch.setattr(track, "run_replay", counted)
    return calls


def test_the_lines_of_several_alerts_come_from_one_replay_and_read_as_each_alone(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, alerts = several_alerts(store, tmp_path)
    alone = []
    for a in alerts:
        store.db.execute("DELETE FROM track_cache")  # each as the first alert after a fetch finds it
        alone.extend(track.stats_lines(store, config, [(a.rule, a.date)]))
    store.db.execute("DELETE FROM track_cache")
    replays = _count_replays(monkeypatch)
    together = track.stats_lines(store, config, [(a.rule, a.date) for a in alerts])
    assert together == alone and all(together)
    assert len(replays) == 1
    assert track.stats_lines(store, config, [(a.rule, a.date) for a in alerts]) == alone  # now from the cache
    assert len(replays) == 1


def test_the_check_sink_replays_once_for_all_its_firings(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    config = _config(tmp_path)
    chats.subscribe(store, 1)
    result, _ = run_replay(store, config, dt.date(2022, 3, 1))
    rules_on: dict[dt.date, set[str]] = {}
    for a in result.alerts:
        if a.kind == "firing":
            rules_on.setdefault(a.date, set()).add(a.rule)
    day = max(d for d, rules in rules_on.items() if len(rules) > 1)  # a check sends its own day's alerts
    run_check(store, config, as_of=day - dt.timedelta(days=1))
    store.db.execute("DELETE FROM track_cache")  # as the first check after a fetch finds it
    replays = _count_replays(monkeypatch)
    checked = run_check(store, config, as_of=day, sink=notifier(config))
    firing = [a for a in checked.alerts if a.kind == "firing"]
    assert len({a.rule for a in firing}) >= 2
    assert len(replays) == 1  # the check's own evaluation is no replay of history
    queued = [str(r[0]) for r in store.db.execute("SELECT text FROM outbox").fetchall()]
    assert len(queued) == len(rules_on[day]) and all("\nFired " in text for text in queued), queued
