"""The benchmarks import and run end to end on a tiny synthetic store (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_breadth, bench_daily, bench_incremental, bench_startup, bench_track, common
from benchmarks.__main__ import BENCHMARKS
from bot.market.data import load_market_data
from rules.engine import compute
from rules.model import load_rules


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> common.Env:
    env = common.make_synthetic(tmp_path / "tiny.sqlite", members=8, years=2)
    monkeypatch.setattr(common, "_ENV", env)
    monkeypatch.setattr(common, "_WORK", tmp_path)  # every benchmark asks common.work() when it runs
    # One timed round, not five: this checks the benchmarks run end to end, and each round of the start-up one
    # is seven whole processes (the slowest test of the suite at five).
    monkeypatch.setattr(bench_startup, "RUNS", 1)
    monkeypatch.setattr(bench_daily, "RUNS", 1)
    return env


@pytest.mark.parametrize("bench", [b for b in BENCHMARKS if b.__name__ != "benchmarks.bench_track"])
def test_benchmark_runs_and_reports_a_line(tiny: common.Env, bench: object, capsys: pytest.CaptureFixture[str]) -> None:
    result = bench.run()  # type: ignore[attr-defined]
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == result.line()
    assert line.startswith(f"{result.name}: measured ")
    assert line.endswith(("PASS", "MISS")) or " — " in line
    assert "skipped" not in line


def test_track_record_benchmark_runs(tiny: common.Env) -> None:
    line = bench_track.run()
    assert line.startswith("track record: ") and ("PASS" in line or "MISS" in line)


def test_incremental_counts_one_call_per_hundred_tickers(tiny: common.Env) -> None:
    result = bench_incremental.run()
    assert result.measured == "1 source calls"  # 8 tickers, one batch
    assert "8 rows added" in result.note


def test_synthetic_store_has_the_requested_shape(tiny: common.Env) -> None:
    store = tiny.open()
    try:
        assert len(store.universe("sp500")) == 8
        close, _ = store.load_prices(store.universe("sp500"))
        assert close.shape == (2 * 252, 8)
    finally:
        store.close()


def test_raw_breadth_baseline_matches_the_engine_on_clean_data(tiny: common.Env) -> None:
    """The baseline is only fair if it computes the same thing on gap-free data."""
    rule = load_rules(
        [{"name": "b", "metric": "breadth", "universe": "sp500", "window": 200, "condition": "above", "threshold": 1}]
    )[0]
    store = tiny.open()
    try:
        data = load_market_data(store, tiny.config(), [rule])
    finally:
        store.close()
    engine = compute(rule, data).values.to_numpy()
    raw = bench_breadth.raw_breadth(data.close[list(data.members("sp500"))].to_numpy())
    np.testing.assert_allclose(engine, raw)
