"""CPI: point-in-time actuals, consensus from TOML or /consensus, the summary, and the alert on the first release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import BotError
from bot.jobs.check import run_check
from bot.market.cpi import cpi_frame, cpi_summary, parse_consensus_args, set_consensus
from bot.store.db import Store
from tests.support.factories import make_config, price_frame


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


@pytest.mark.parametrize(("month", "time"), [("2024-6", "17:30:00"), ("24-06", "5pm"), ("2024-13", "25:00")])
def test_a_month_and_a_time_of_day_are_refused_in_the_same_words_at_every_door(
    tmp_path: Path, month: str, time: str
) -> None:
    """config.toml, /consensus and the CSV files (tests/integration/test_csv_bad_rows.py) check them once, alike."""
    with pytest.raises(ValueError, match=f'^expected a month like 2024-06, got "{month}". Usage: /consensus'):
        parse_consensus_args([month, "core_mom", "0.3"])
    config = tmp_path / "config.toml"
    entry = f'[[cpi.consensus]]\nmonth = "{month}"\nmeasure = "core_mom"\nexpected = 0.3\n'
    config.write_text(f'[schedule]\ndaily_check = "{time}"\n\n{entry}')
    with pytest.raises(BotError) as raised:
        load_config(config)
    text = str(raised.value)
    assert f'expected a time like 08:30, got "{time}"' in text, text
    assert f'expected a month like 2024-06, got "{month}"' in text, text


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
    set_consensus(store, parse_consensus_args(["2024-06", "core_mom", "0.3"]))
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


def test_the_alert_uses_the_first_release_when_a_revision_would_flip_the_sign(tmp_path: Path, store: Store) -> None:
    """February first published at 0.0% m/m (0.1 pt under a 0.1% consensus); revised later to +0.2% (above)."""
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
