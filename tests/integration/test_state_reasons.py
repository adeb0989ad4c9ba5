"""A rule's state carries its reason (check, /rules), and a change of threshold, condition or metric re-evaluates
the state instead of showing the old rule's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from bot.answers.views import rule_lines
from bot.cli.main import main
from bot.config.settings import load_config
from bot.jobs.check import run_check
from bot.store.db import Store
from rules import MetricSeries, RuleState, State, load_rules, run_rule, state_reason
from tests.support.factories import price_frame

RULE = {"name": "up", "metric": "close", "symbol": "A", "condition": "crosses_above", "threshold": 0.4}


def _state(values: list[float], **spec: object) -> tuple[RuleState, object]:
    rule = load_rules([{**RULE, **spec}], source="test")[0]
    series = pd.Series(values, index=pd.bdate_range("2024-07-01", periods=len(values)), dtype=float)
    _, state = run_rule(rule, MetricSeries(series, None, ""), RuleState(), series.index[-1].date(), dt.date(2024, 7, 1))
    return state, rule


def test_a_firing_held_by_the_hysteresis_band_says_so() -> None:
    state, rule = _state([0.38, 0.41, 0.395], hysteresis=0.01)
    assert state.state is State.FIRING
    assert state_reason(rule, state) == "firing since 2024-07-02, held by the 0.01 hysteresis band until 0.39"  # type: ignore[arg-type]
    below, rule = _state([0.42, 0.38, 0.405], condition="crosses_below", hysteresis=0.01)
    assert state_reason(rule, below).endswith("held by the 0.01 hysteresis band until 0.41")  # type: ignore[arg-type]


def test_pending_and_inactive_read_as_what_they_are() -> None:
    state, rule = _state([0.38, 0.41, 0.42], for_days=3)
    assert state_reason(rule, state) == "pending since 2024-07-02: 2 of 3 days"  # type: ignore[arg-type]
    state, rule = _state([0.38, 0.41, 0.38])
    assert state_reason(rule, state) == "inactive since 2024-07-03"  # type: ignore[arg-type]


def _workdir(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n[[rules]]\nname = "up"\nmetric = "close"\nsymbol = "A"\n'
        'condition = "crosses_above"\nthreshold = 0.4\nhysteresis = 0.01\n'
    )
    store = Store(tmp_path / "s.sqlite")
    values = np.r_[np.full(300, 0.38), [0.41, 0.395]]
    store.upsert_prices("A", price_frame(values, start="2023-01-02"))
    store.close()
    return cfg


def test_check_and_rules_show_the_reason(tmp_path: Path) -> None:
    cfg = _workdir(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(cfg), "check"])
    assert "held by the 0.01 hysteresis band until 0.39" in result.output
    config = load_config(cfg)
    store = Store(config.store_path)
    try:
        [line] = rule_lines(store, config)
    finally:
        store.close()
    assert line.reason.endswith("held by the 0.01 hysteresis band until 0.39")


def test_a_new_threshold_re_evaluates_the_state(tmp_path: Path) -> None:
    cfg = _workdir(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["--config", str(cfg), "check"])
    dry = runner.invoke(main, ["--config", str(cfg), "rules", "set", "up", "threshold", "0.42", "--dry-run"])
    assert "Applying re-evaluates the state of up on the new definition." in dry.output
    done = runner.invoke(main, ["--config", str(cfg), "rules", "set", "up", "threshold", "0.42"])
    assert done.exit_code == 0, done.output
    assert "up: state re-evaluated on the new definition: inactive" in done.output
    config = load_config(cfg)
    store = Store(config.store_path)
    try:
        assert store.load_states()["up"].state is State.INACTIVE  # 0.395 is below 0.42: not "firing"
        report = run_check(store, config)
        assert report.results[0].state.state is State.INACTIVE and not report.alerts
    finally:
        store.close()
