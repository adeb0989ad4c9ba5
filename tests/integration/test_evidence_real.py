"""Base rates and as-of track records on the real offline data."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.config import find_rule, load_config
from bot.market.track import compute_track_records, track_record_for
from bot.store.db import Store

AS_OF = dt.date(2024, 7, 24)


@pytest.fixture
def config(real_config: Path) -> Path:
    return real_config


@pytest.mark.parametrize("name", ["rut-spx-above-0.4", "breadth-above-75", "cpi-headline-yoy-below-consensus"])
def test_a_record_as_of_a_day_is_a_replay_that_stopped_that_day(config: Path, name: str) -> None:
    cfg = load_config(config)
    store = Store(cfg.store_path)
    try:
        cut = track_record_for(store, cfg, name, AS_OF)  # the full, cached record cut at AS_OF
        stopped, errors = compute_track_records(store, cfg, [find_rule(cfg, name)], end=AS_OF)
    finally:
        store.close()
    assert not errors
    assert cut == stopped[name]
    assert all(f.date <= AS_OF for f in cut.firings) and cut.as_of == AS_OF


def _stats(config: Path, name: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), "stats", name, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _at(doc: dict[str, Any], h: int) -> dict[str, Any]:
    return next(s for s in doc["summaries"] if s["horizon"] == h)


@pytest.mark.parametrize("name", ["rut-spx-above-0.4", "rut-spx-below-0.4", "cpi-headline-yoy-below-consensus"])
def test_seven_firings_at_3_months_are_too_few_to_tell(config: Path, name: str) -> None:
    doc = _stats(config, name)
    s3 = _at(doc, 63)
    # The Russell 2000 beat the S&P 500 over 63 trading days on about 47-48% of all days of each span.
    assert 0.45 < s3["base_rate"] < 0.50
    # 7 independent firings: only 0 or 7 of 7 could reject, so the test could not see a 15-pt edge ...
    assert s3["independent"] == 7 and s3["p_value"] > 0.05
    assert s3["power"] < 0.1 and s3["edge"] == 0.15
    # ... and its verdict is not "no better than chance" but "too few to tell", with the edge it could have seen.
    assert s3["verdict"] == "too_few" and s3["min_detectable"] == pytest.approx(0.50)
    assert (
        "too few firings to tell" in doc["summary"]
        and "only an edge of 50 pt or more could have shown" in (doc["summary"])
    )


def test_breadth_states_its_verdict_and_power(config: Path) -> None:
    doc = _stats(config, "breadth-above-75")
    s3 = _at(doc, 63)
    assert (s3["independent"], s3["independent_positive"]) == (18, 14) and 0.75 < s3["base_rate"] < 0.76
    assert s3["verdict"] == "too_few" and 0.1 < s3["power"] < 0.2 and s3["min_detectable"] == pytest.approx(0.33)
    # the headline shows the sample tested, labelled, not 18 of 22 beside a test of 14 of 18
    assert "22 firings, 18 at least 3 months apart: 14 of 18 (78%); on any day: 76%" in doc["summary"]
    assert "Median of the 18: +3.3%" in doc["summary"]


def test_stats_as_of_quotes_nothing_after_the_day(config: Path) -> None:
    args = ["--config", str(config), "stats", "rut-spx-above-0.4", "--as-of", "2024-07-24", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert max(re.findall(r"\d{4}-\d{2}-\d{2}", result.stdout)) == "2024-07-24"
    last = doc["firings"][-1]
    assert last["date"] == "2024-07-17" and last["open"]  # its horizons end after the day: open, not known


def test_the_one_small_p_value_does_not_survive_its_family(config: Path) -> None:
    doc = _stats(config, "rut-beats-spx-10d")
    s3 = _at(doc, 63)
    # 1 of 9 beat at 3 months: p = 0.041 alone, one of the record's three horizons
    assert (s3["independent"], s3["independent_positive"]) == (9, 1)
    assert s3["p_value"] == pytest.approx(0.041, abs=5e-4)
    assert s3["family"] == 3 and s3["p_adjusted"] == pytest.approx(0.123, abs=5e-4)
    assert s3["verdict"] == "too_few" and "worse than any day" not in doc["summary"]
    assert "p = 0.12 adjusted for 3 tests (0.04 alone)" in doc["summary"]
    # `rules list` shows six rules at three horizons: a family of 18, in which it is further from a finding
    listed = CliRunner().invoke(main, ["--config", str(config), "rules", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.stdout.splitlines() if x.startswith("rut-beats-spx-10d") and " fires " in x)
    assert "too few firings to tell (p = 0.74 adjusted for 18 tests (0.04 alone)" in line
    assert "worse than" not in listed.stdout


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("cpi-headline-yoy-below-consensus", "2016-11-30"),
        ("breadth-above-75", "2000-03-10"),
        ("rsp-spy-above-200d", "2000-03-10"),
    ],
)
def test_a_day_before_a_rules_data_names_no_later_day(config: Path, name: str, day: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), "stats", name, "--as-of", day])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        result.output.strip()
        == f'Error: rule "{name}" has no data by {day}: nothing of it is known yet (try a later --as-of)'
    )
    assert max(re.findall(r"\d{4}-\d{2}-\d{2}", result.output)) == day  # "can run from 2023-07-12 on" named the future


def test_a_record_counts_no_firing_after_the_day_it_is_as_of(config: Path) -> None:
    # The CPI rule's last firing (2026-07-14) comes after the indices' last close (2026-06-23): it was
    # counted in a record said to be "as of 2026-06-23". The record is as of the last day it knows of.
    result = CliRunner().invoke(
        main, ["--config", str(config), "stats", "cpi-headline-yoy-below-consensus", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert max(f["date"] for f in doc["firings"]) <= doc["as_of"]
    assert max(re.findall(r"\d{4}-\d{2}-\d{2}", result.stdout)) == doc["as_of"]
