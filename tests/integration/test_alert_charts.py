"""A chart attached to an alert is drawn around the alert's own day, whatever the latest stored day is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import bot.answers.charts as charts
from bot.answers.charts import chart_for_alert
from bot.config.settings import Config, load_config
from bot.market.replay import run_replay
from bot.store.db import Store
from rules import Alert, MetricSeries, Rule
from tests.integration.test_charts import _config, _fill
from tests.support.loads import count_loads
from tests.support.paths import REPO


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[tuple[MetricSeries, list[Mapping[str, Any]]]]:
    drawn: list[tuple[MetricSeries, list[Mapping[str, Any]]]] = []

    def fake_draw(
        series: MetricSeries, title: str, rules: Sequence[Rule], alerts: Sequence[Mapping[str, Any]]
    ) -> bytes:
        drawn.append((series, list(alerts)))
        return b"png"

    monkeypatch.setattr(charts, "draw", fake_draw)
    return drawn


def several_alerts(store: Store, folder: Path) -> tuple[Config, list[Alert]]:
    """The generated market and its rules, and the last four firings, of more than one rule."""
    _fill(store)
    config = _config(folder)
    result, _ = run_replay(store, config, dt.date(2022, 3, 1))
    alerts = [a for a in result.alerts if a.kind == "firing"][-4:]
    assert len({a.rule for a in alerts}) > 1
    return config, alerts


def test_an_old_alert_gets_the_year_up_to_its_day(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    config = _config(tmp_path)
    result, _ = run_replay(store, config, dt.date(2022, 3, 1), rule_names=["ratio-up"])
    old = next(a for a in result.alerts if a.kind == "firing" and a.date.year == 2022)
    latest = store.latest_date()
    assert latest is not None and latest > old.date + dt.timedelta(days=365)
    drawn = _capture(monkeypatch)
    assert chart_for_alert(store, config, old) == b"png"
    series, alerts = drawn[0]
    index = series.values.index
    assert index[-1].date() == old.date  # ends on the firing, never after it
    assert index[0].date() >= old.date - dt.timedelta(days=366)
    assert any(a["date"] == old.date.isoformat() and a["rule"] == "ratio-up" for a in alerts)


@pytest.mark.parametrize(
    ("rule", "day", "low", "high"),
    [("rut-spx-above-0.4", "2024-07-17", 0.40, 0.41), ("breadth-above-75", "2024-07-18", 75, 80)],
)
def test_july_2024_alerts_are_charted_in_july_2024(
    real_store_copy: Path, monkeypatch: pytest.MonkeyPatch, rule: str, day: str, low: float, high: float
) -> None:
    config: Config = load_config(REPO / "config.toml")
    store = Store(real_store_copy)
    try:
        result, _ = run_replay(store, config, dt.date(2024, 7, 1), dt.date(2024, 7, 24), [rule])
        alert = next(a for a in result.alerts if a.date.isoformat() == day)
        drawn = _capture(monkeypatch)
        chart_for_alert(store, config, alert)
    finally:
        store.close()
    series, _ = drawn[0]
    assert series.values.index[-1].date().isoformat() == day
    assert low < float(series.values.iloc[-1]) < high  # the firing's own value is on the chart


def test_the_charts_of_one_check_come_from_one_load(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several alerts of a check: one read of market data, and each chart as it would be drawn alone."""
    config, alerts = several_alerts(store, tmp_path)
    drawn = _capture(monkeypatch)
    alone = [chart_for_alert(store, config, a) for a in alerts]
    one_by_one = list(drawn)
    drawn.clear()
    loads = count_loads(monkeypatch)
    assert charts.charts_for_alerts(store, config, alerts) == alone
    assert len(loads) == 1
    for (series, marks), (series_alone, marks_alone) in zip(drawn, one_by_one, strict=True):
        pd.testing.assert_series_equal(series.values, series_alone.values)
        assert sorted(map(str, marks)) == sorted(map(str, marks_alone))
