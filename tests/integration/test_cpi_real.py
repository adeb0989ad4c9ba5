"""CPI on the real data in ../shared/data (skipped when absent): June 2024 below consensus, and its revision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.answers import render as messages
from bot.answers import views
from bot.config.reload import ConfigHolder
from bot.config.settings import parse_config
from bot.ingest.sources.csvdir import load_directory
from bot.jobs.scheduler import BotScheduler, run_cpi_check
from bot.market.cpi import cpi_summary
from bot.store.db import Store
from tests.support.factories import make_config

MEASURES = ("headline_mom", "headline_yoy", "core_mom", "core_yoy")
JUNE_2024 = {"headline_mom": 0.1, "headline_yoy": 3.1, "core_mom": 0.2, "core_yoy": 3.4}  # consensus.csv


@pytest.fixture
def june_2024(shared_data: Path, tmp_path: Path) -> tuple[Store, Path]:
    """The real CPI levels and release calendar, without consensus.csv: the consensus comes from TOML."""
    store = Store(tmp_path / "s.sqlite")
    for name in ("CPIAUCSL.csv", "CPILFESL.csv", "CPIAUCSL_vintage_2024-11-13.csv", "CPILFESL_vintage_2024-11-13.csv"):
        load_directory(store, shared_data / "cpi" / name)
    load_directory(store, shared_data / "cpi" / "release_dates.csv")
    consensus = "".join(
        f'[[cpi.consensus]]\nmonth = "2024-06"\nmeasure = "{m}"\nexpected = {v}\n\n' for m, v in JUNE_2024.items()
    )
    rules = "".join(
        f'[[rules]]\nname = "cpi-{m}"\nmetric = "cpi_surprise"\nmeasure = "{m}"\ncondition = "below"\n'
        f'threshold = 0\nmessage = "CPI {m} below consensus by {{value}}"\n\n'
        for m in MEASURES
    )
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "s.sqlite"\n\n{consensus}{rules}')
    # the check needs a price calendar to exist; one symbol is enough
    load_directory(store, shared_data / "indices" / "^GSPC.csv")
    return store, path


def test_june_2024_cpi_below_consensus_on_all_four(june_2024: tuple[Store, Path]) -> None:
    store, path = june_2024
    config = ConfigHolder.load(path).config
    report = run_cpi_check(store, config, dt.date(2024, 7, 11))
    assert report is not None
    fired = {a.rule: a for a in report.alerts if a.date == dt.date(2024, 7, 11)}
    assert set(fired) == {f"cpi-{m}" for m in MEASURES}
    assert all(a.value < 0 for a in fired.values())
    assert fired["cpi-headline_yoy"].value == pytest.approx(3.0 - 3.1)
    summary = cpi_summary(store, config, today=dt.date(2024, 7, 12))
    assert summary["latest"]["month"] == "2024-06"
    assert {m: v["surprise"] < 0 for m, v in summary["measures"].items()} == dict.fromkeys(MEASURES, True)


def test_june_2024_through_the_scheduler_on_release_morning(june_2024: tuple[Store, Path]) -> None:
    store, path = june_2024
    holder = ConfigHolder.load(path)
    ny = ZoneInfo("America/New_York")
    store.set_meta("scheduler.daily.done", dt.datetime(2024, 7, 10, 21, 30, tzinfo=dt.UTC).isoformat())
    sched = BotScheduler(
        holder,
        now=lambda: dt.datetime(2024, 7, 11, 8, 40, tzinfo=ny),
        fetch_prices=lambda s, c: None,
        fetch_cpi=lambda s, c: None,
    )
    [line] = sched.tick()
    assert line.startswith("cpi 2024-07-11") and "4 new alerts" in line
    assert {a["rule"] for a in store.recent_alerts()} == {f"cpi-{m}" for m in MEASURES}


def test_without_consensus_no_alert_unless_naive_opted_in(june_2024: tuple[Store, Path]) -> None:
    store, _ = june_2024
    rule = {
        "name": "cpi-naive",
        "metric": "cpi_surprise",
        "measure": "headline_mom",
        "condition": "below",
        "threshold": 0,
    }
    plain = parse_config({"rules": [rule]})
    report = run_cpi_check(store, plain, dt.date(2024, 7, 11))
    assert report is not None and [a for a in report.alerts if a.date == dt.date(2024, 7, 11)] == []
    naive = parse_config({"rules": [{**rule, "name": "cpi-naive2", "fallback": "naive"}]})
    report = run_cpi_check(store, naive, dt.date(2024, 7, 11))
    assert report is not None
    [result] = report.results
    assert result.details.get("expected_basis") == "naive"


def test_cpi_view_on_real_data_shows_first_release_and_revision(real_store_path: Path, tmp_path: Path) -> None:
    """June 2024 headline MoM was first published as -0.1%; the 2026 vintage revises it to -0.0%."""
    store = Store(real_store_path)
    try:
        config = make_config(tmp_path, rules=[])
        view = views.cpi_view(store, config, today=dt.date(2024, 7, 12))
    finally:
        store.close()
    assert view.month == "2024-06" and view.release_date == dt.date(2024, 7, 11)
    headline = next(m for m in view.measures if m.measure == "headline_mom")
    assert headline.actual == pytest.approx(-0.1) and headline.expected == pytest.approx(0.1)
    assert headline.current == pytest.approx(0.0)
    text = messages.cpi(view)
    assert "below consensus by 0.20 pt" in text
    assert "first published -0.1%, now revised to" in text
