"""CPI: point-in-time actuals, consensus from TOML or /consensus, the summary, and June 2024 on real data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.reload import ConfigHolder
from bot.config.settings import parse_config
from bot.history.cpi import cpi_frame, cpi_summary, parse_consensus_args, set_consensus
from bot.ingest.sources.csvdir import load_directory
from bot.jobs.scheduler import BotScheduler, run_cpi_check
from bot.store.db import Store
from tests.conftest import make_config, price_frame

MEASURES = ("headline_mom", "headline_yoy", "core_mom", "core_yoy")
JUNE_2024 = {"headline_mom": 0.1, "headline_yoy": 3.1, "core_mom": 0.2, "core_yoy": 3.4}  # consensus.csv


def monthly(start: str, values: list[float]) -> list[tuple[str, float | None]]:
    y, m = map(int, start.split("-"))
    out: list[tuple[str, float | None]] = []
    for v in values:
        out.append((f"{y:04d}-{m:02d}", v))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_parse_consensus_args() -> None:
    e = parse_consensus_args(["2024-06", "headline_yoy", "3.1"])
    assert (e.month, e.measure, e.expected) == ("2024-06", "headline_yoy", 3.1)
    for bad in ([], ["2024-6x", "headline_yoy", "3"], ["2024-06", "yoy", "3"], ["2024-06", "core_mom", "abc"]):
        with pytest.raises(ValueError, match="Usage: /consensus"):
            parse_consensus_args(bad)


def test_earliest_vintage_wins_for_month_and_base(tmp_path: Path, store: Store) -> None:
    store.set_cpi_releases([("2024-02", "2024-03-12", "08:30")])
    store.upsert_cpi_observations("CPIAUCSL", monthly("2023-02", [100.0] * 12 + [101.0]), vintage="2024-03-12")
    revised = monthly("2023-02", [100.0] * 11 + [100.5, 102.0])  # January and February revised later
    store.upsert_cpi_observations("CPIAUCSL", revised, vintage="latest")
    frame = cpi_frame(store, make_config(tmp_path))
    assert frame is not None
    row = frame.iloc[0]
    assert row["actual_headline_mom"] == 1.0  # 101/100 as published, not 102/100.5
    assert row["actual_headline_yoy"] == 1.0


def test_admin_consensus_keeps_first_published_actual_and_config_wins(tmp_path: Path, store: Store) -> None:
    store.set_cpi_releases([("2024-06", "2024-07-11", "08:30")])
    store.upsert_consensus([{"month": "2024-06", "measure": "core_mom", "expected": 0.2, "actual": 0.1}], "file")
    set_consensus(store, "2024-06", "core_mom", 0.3)
    row = store.db.execute("SELECT expected, actual, source FROM cpi_consensus").fetchone()
    assert row == (0.3, 0.1, "admin")
    config = make_config(
        tmp_path, {"cpi": {"consensus": [{"month": "2024-06", "measure": "core_mom", "expected": 0.25}]}}
    )
    frame = cpi_frame(store, config)
    assert frame is not None and frame.iloc[0]["expected_core_mom"] == 0.25


def test_summary_says_when_consensus_is_missing(tmp_path: Path, store: Store) -> None:
    store.set_cpi_releases([("2024-01", "2024-02-13", "08:30"), ("2024-02", "2024-03-12", "08:30")])
    store.upsert_cpi_observations("CPIAUCSL", monthly("2023-01", [100.0 + i * 0.2 for i in range(14)]), "latest")
    summary = cpi_summary(store, make_config(tmp_path), today=dt.date(2024, 3, 1))
    assert summary["latest"] == {"month": "2024-01", "release_date": "2024-02-13"}
    assert summary["next_release"] == {"month": "2024-02", "date": "2024-03-12", "time": "08:30"}
    m = summary["measures"]["headline_mom"]
    assert m["consensus"] == "missing" and m["surprise"] is None and m["actual"] == 0.2
    assert any("no consensus for 2024-01" in n for n in summary["notes"])


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
    from bot.answers import render as messages
    from bot.answers import views as queries

    store = Store(real_store_path)
    try:
        config = make_config(tmp_path, rules=[])
        view = queries.cpi_view(store, config, today=dt.date(2024, 7, 12))
    finally:
        store.close()
    assert view.month == "2024-06" and view.release_date == dt.date(2024, 7, 11)
    headline = next(m for m in view.measures if m.measure == "headline_mom")
    assert headline.actual == pytest.approx(-0.1) and headline.expected == pytest.approx(0.1)
    assert headline.current == pytest.approx(0.0)
    text = messages.cpi(view)
    assert "below consensus by 0.20 pt" in text
    assert "first published -0.1%, now revised to" in text


def test_the_alert_uses_the_first_release_when_a_revision_would_flip_the_sign(tmp_path: Path, store: Store) -> None:
    """February first published at 0.0% m/m (0.1 pt under a 0.1% consensus); revised later to +0.2% (above)."""
    from bot.jobs.check import run_check

    store.upsert_prices("^GSPC", price_frame([5000.0]))  # a check needs some prices
    store.set_cpi_releases([("2024-02", "2024-03-12", "08:30")])
    for series in ("CPIAUCSL", "CPILFESL"):
        store.upsert_cpi_observations(series, monthly("2023-02", [100.0] * 13), vintage="2024-03-12")
        store.upsert_cpi_observations(series, monthly("2023-02", [100.0] * 12 + [100.2]), vintage="latest")
    rule = {"name": "miss", "metric": "cpi_surprise", "measure": "headline_mom", "condition": "below",
            "threshold": -0.05, "message": "{actual:.1f} vs {expected:.1f}"}  # fmt: skip
    config = make_config(
        tmp_path, {"cpi": {"consensus": [{"month": "2024-02", "measure": "headline_mom", "expected": 0.1}]}}, [rule]
    )
    report = run_check(store, config, as_of=dt.date(2024, 3, 12))
    assert [(a.date, a.message, a.value) for a in report.alerts] == [(dt.date(2024, 3, 12), "0.0 vs 0.1", -0.1)]
