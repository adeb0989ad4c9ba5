"""bot/answers/views.py on generated data: the numbers /ratio, /breadth, /cpi, /status and /rules show."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from bot.answers import render as messages
from bot.answers import status_view, views
from bot.errors import StoreError
from bot.jobs.check import run_check
from bot.store import chats, outbox
from bot.store.db import Store
from tests.support.factories import make_config, price_frame
from tests.support.tg_helpers import RULES, load_prices, tg_config


def test_ratio_view(tmp_path: Path, store: Store) -> None:
    load_prices(store)
    view = views.ratio_view(store, tg_config(tmp_path))
    assert view.value == pytest.approx(0.42)
    assert [c.label for c in view.changes] == ["1 week", "1 month", "1 year"]
    for c in view.changes:
        assert c.then == pytest.approx(0.38) and c.change == pytest.approx(0.04)
        assert c.pct == pytest.approx((0.42 / 0.38 - 1) * 100)
    assert [(d.rule, d.line) for d in view.distances] == [("rut-spx-above-0.4", 0.4), ("rut-spx-above-0.41", 0.41)]
    assert view.distances[0].distance == pytest.approx(0.02)
    text = messages.ratio(view)
    assert "<b>0.4200</b>" in text and "0.0200 above 0.4" in text and "0.0100 above 0.41" in text


def test_changes_use_the_last_value_on_or_before(tmp_path: Path, store: Store) -> None:
    store.upsert_prices("^GSPC", price_frame(np.full(30, 100.0)))
    store.upsert_prices("^RUT", price_frame(np.arange(30, dtype=float) + 10))
    view = views.ratio_view(store, make_config(tmp_path, rules=[]))
    week = view.changes[0]
    # 2024-01-01 is a Monday: 30 business days end on Friday 2024-02-09; a week before is 2024-02-02.
    assert view.date == dt.date(2024, 2, 9) and week.since == dt.date(2024, 2, 2)
    assert week.change == pytest.approx(0.05)
    assert [c.label for c in view.changes] == ["1 week", "1 month"]  # no year of history yet


def test_ratio_without_data_says_what_to_run(tmp_path: Path, store: Store) -> None:
    with pytest.raises(StoreError, match="run `rotation-bot fetch`"):
        views.ratio_view(store, tg_config(tmp_path))


def test_breadth_view_counts_members(tmp_path: Path, store: Store) -> None:
    n = 40
    up = np.linspace(100, 140, n)
    down = np.linspace(140, 100, n)
    for sym, values in (("AAA", up), ("BBB", up), ("CCC", down)):
        store.upsert_prices(sym, price_frame(values))
    store.upsert_prices("YNG", price_frame(up[-3:], start="2024-02-21"))  # too young for a 5-day SMA
    rules = [{"name": "b", "metric": "breadth", "universe": "tiny", "window": 5, "condition": "above", "threshold": 50}]
    config = make_config(tmp_path, {"universes": {"tiny": {"members": ["AAA", "BBB", "CCC", "YNG"]}}}, rules)
    [view] = views.breadth_views(store, config)
    assert (view.above, view.counted, view.excluded) == (2, 3, 1)
    assert view.value == pytest.approx(200 / 3)
    assert view.distances[0].distance == pytest.approx(200 / 3 - 50)
    text = messages.breadth([view])
    assert "2 of 3 members above; 1 excluded" in text
    assert "16.7 pt above 50%, state not checked yet" in text  # a percentage is off by points, not by %
    week = view.changes[0]
    assert f"1 week: {week.change:+.1f} pt from {week.then:.1f}% on {week.since}" in text


def test_cpi_view(tmp_path: Path, store: Store) -> None:
    levels = [(f"2023-{m:02d}", 300.0 + m) for m in range(1, 13)] + [("2024-01", 313.0), ("2024-02", 313.313)]
    for series in ("CPIAUCSL", "CPILFESL"):
        store.upsert_cpi_observations(series, levels, "latest")
    store.set_cpi_releases([("2024-01", "2024-02-13", "08:30"), ("2024-02", "2024-03-12", "08:30")])
    store.set_cpi_releases([("2024-03", "2024-04-10", "08:30")])
    store.upsert_consensus([{"month": "2024-02", "measure": "headline_mom", "expected": 0.4}], source="test")
    view = views.cpi_view(store, make_config(tmp_path, rules=[]), today=dt.date(2024, 3, 20))
    assert view.month == "2024-02" and view.release_date == dt.date(2024, 3, 12)
    assert view.next_release == dt.date(2024, 4, 10)
    head = {m.measure: m for m in view.measures}["headline_mom"]
    assert head.actual == pytest.approx(0.1) and head.expected == 0.4 and head.surprise == pytest.approx(-0.3)
    assert "below consensus by 0.30 pt" in messages.cpi(view)


def test_status_rules_and_alerts(tmp_path: Path, store: Store) -> None:
    load_prices(store)
    config = tg_config(tmp_path)
    chats.subscribe(store, 111)
    run_id = store.start_run("check")
    run_check(store, config, sink=outbox.enqueue_alerts)
    store.finish_run(run_id, "ok")
    store.mark_source("csv", ok=True, last_data_date=dt.date(2025, 2, 21))
    status = status_view(
        store, config, next_runs={"delivery": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, last_error="boom <x>"
    )
    assert status.rules_loaded == 2 and status.subscribers == 1 and status.outbox == {"pending": 2}
    assert status.sources[0].last_data_date == "2025-02-21" and status.last_error == "boom <x>"
    text = messages.status(status)
    assert "boom &lt;x&gt;" in text and "delivery 2025-01-01 00:00 UTC" in text and "check at" in text
    # A failed daily run (the scheduler's status word is "failed") shows in /status as in `rotation-bot status`.
    failed = store.start_run("daily")
    store.finish_run(failed, "failed", "yahoo unavailable: HTTP 503")
    status = status_view(store, config)
    assert status.last_error == "the last daily run failed: yahoo unavailable: HTTP 503"
    assert "Last error: the last daily run failed: yahoo unavailable: HTTP 503" in messages.status(status)
    lines = views.rule_lines(store, config)
    assert [(r.name, r.state) for r in lines] == [(str(r["name"]), "firing") for r in RULES]
    items = views.recent_alerts(store, 5)
    assert {a.rule for a in items} == {"rut-spx-above-0.4", "rut-spx-above-0.41"}
    assert "Small caps gaining" in messages.alerts(items)


def test_html_helpers() -> None:
    assert messages.to_plain("<b>S&amp;P</b> &lt;5") == "S&P <5"
    long = "\n".join(f"line {i}" for i in range(2000))
    clipped = messages.clip(long)
    assert len(clipped) <= messages.MAX_TEXT and clipped.endswith("\n…")
