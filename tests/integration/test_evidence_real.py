"""Base rates and as-of track records on the real offline data."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

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


def test_the_ratio_rule_is_no_better_than_chance_and_says_so(config: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), "stats", "rut-spx-above-0.4", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    s3 = next(s for s in doc["summaries"] if s["horizon"] == 63)
    # The Russell 2000 beat the S&P 500 over 63 trading days on about 47-48% of all days since 1987.
    assert 0.45 < s3["base_rate"] < 0.50 and s3["base_days"] > 9000
    assert s3["verdict"] == "chance" and s3["p_value"] > 0.05
    assert "on any day: 48% — no better than chance" in doc["summary"]


def test_stats_as_of_quotes_nothing_after_the_day(config: Path) -> None:
    args = ["--config", str(config), "stats", "rut-spx-above-0.4", "--as-of", "2024-07-24", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert max(re.findall(r"\d{4}-\d{2}-\d{2}", result.stdout)) == "2024-07-24"
    last = doc["firings"][-1]
    assert last["date"] == "2024-07-17" and last["open"]  # its horizons end after the day: open, not known
