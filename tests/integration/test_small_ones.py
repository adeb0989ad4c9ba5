"""Small ones: one definition of a week, optional RULE shown as such, ranges without data exit 1, a --rule-file
name that is not the file's rule is refused, and counts that agree with their nouns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from bot.answers.digest import metric_line
from bot.answers.views import changes
from bot.cli.main import main
from bot.store.db import Store
from bot.values import counted
from rules import MetricSeries
from tests.support.factories import price_frame

RULE = (
    '[[rules]]\nname = "up"\nmetric = "ratio"\nnumerator = "A"\ndenominator = "B"\n'
    'condition = "crosses_above"\nthreshold = 0.4\n'
)


def _cfg(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n{RULE}')
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("A", price_frame(0.4 + 0.05 * np.sin(np.arange(300) / 10), start="2020-01-01"))
    store.upsert_prices("B", price_frame(np.ones(300), start="2020-01-01"))
    store.close()
    return cfg


def test_the_digest_week_is_the_ratio_week() -> None:
    days = pd.bdate_range("2024-07-01", periods=12).delete(7)  # a holiday: five observations ≠ one week
    series = pd.Series(np.linspace(0.38, 0.41, len(days)), index=days)
    line = metric_line("ratio", MetricSeries(series, None, ""), days[-1].date())
    assert line is not None
    assert line.week == changes(series)[0].change


def test_rules_history_shows_rule_as_optional() -> None:
    result = CliRunner().invoke(main, ["rules", "history", "--help"])
    assert "rules history [OPTIONS] [RULE]" in result.output


def test_a_range_with_no_data_exits_1(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    for args in (["whatif", "up", "--from", "2030-01-01"], ["replay", "--from", "2030-01-01"]):
        result = CliRunner().invoke(main, ["--config", str(cfg), *args])
        assert result.exit_code == 1, result.output
        assert "no prices on or after 2030-01-01: the stored data ends on 2021-02-23" in result.output


def test_a_rule_file_with_another_name_is_refused(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    file = tmp_path / "new.toml"
    file.write_text(RULE.replace('"up"', '"other"'))
    result = CliRunner().invoke(main, ["--config", str(cfg), "whatif", "x", "--rule-file", str(file)])
    assert result.exit_code == 2 and 'holds rule "other", not "x"' in result.output
    ok = CliRunner().invoke(main, ["--config", str(cfg), "whatif", "other", "--rule-file", str(file)])
    assert ok.exit_code == 0, ok.output


def test_counts_agree_with_their_nouns() -> None:
    assert [counted(1, "symbol"), counted(2, "symbol"), counted(1, "series", "series")] == [
        "1 symbol",
        "2 symbols",
        "1 series",
    ]
