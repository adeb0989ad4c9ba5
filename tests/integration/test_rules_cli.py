"""`rotation-bot rules check` and `rotation-bot rules test` through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.db import Store
from tests.support.factories import price_frame
from tests.support.paths import REPO, RULE_TESTS

SHIPPED = sorted(RULE_TESTS.glob("*.toml"))

RULE = """
[[rules]]
name = "up"
metric = "ratio"
numerator = "A"
denominator = "B"
condition = "crosses_above"
threshold = 0.4
"""

PASSING = (
    RULE
    + """
[[tests]]
name = "crosses once"
start = 2024-07-01
[tests.input_series]
A = "0.38 0.41"
B = "1x1"
[[tests.exp_alerts]]
rule = "up"
date = 2024-07-02
"""
)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# --- rules check ---------------------------------------------------------------------------------


def test_rules_check_accepts_the_shipped_config() -> None:
    code, out = invoke("rules", "check", str(REPO / "config.toml"))
    assert code == 0, out
    assert "rules OK" in out


def test_rules_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(RULE.replace("0.4", '"0,4"') + RULE.replace('"up"', '"up2"').replace("crosses_above", "over"))
    code, out = invoke("rules", "check", str(bad))
    assert code == 1
    assert 'Error: bad.toml: rule "up" field "threshold": expected a number, got "0,4"' in out
    assert 'Error: bad.toml: rule "up2" field "condition": expected one of' in out
    assert "Traceback" not in out


# --- rules test ----------------------------------------------------------------------------------


def test_rules_test_passes_and_exits_0(tmp_path: Path) -> None:
    f = tmp_path / "ok_test.toml"
    f.write_text(PASSING)
    code, out = invoke("rules", "test", str(f))
    assert code == 0, out
    assert 'SUCCESS: test "crosses once"' in out
    assert "1 passed, 0 failed" in out


def test_rules_test_reports_exp_and_got_and_exits_1(tmp_path: Path) -> None:
    f = tmp_path / "bad_test.toml"
    f.write_text(PASSING.replace("date = 2024-07-02", "date = 2024-07-01"))
    code, out = invoke("rules", "test", str(f))
    assert code == 1
    assert 'FAILED: test "crosses once"' in out
    assert "exp: [2024-07-01 up firing]" in out
    assert "got: [2024-07-02 up firing value=0.41]" in out
    assert "0 passed, 1 failed" in out


def test_rules_test_on_an_invalid_file_names_the_test_and_field(tmp_path: Path) -> None:
    f = tmp_path / "broken_test.toml"
    f.write_text(PASSING.replace('A = "0.38 0.41"', 'A = "0.38 zero"').replace('rule = "up"', 'rule = "nope"'))
    code, out = invoke("rules", "test", str(f))
    assert code == 1
    assert 'broken_test.toml: test "crosses once" field "input_series.A": cannot read "zero"' in out
    assert 'broken_test.toml: test "crosses once" field "exp_alerts.0.rule": "nope" is not one of' in out


def test_rules_test_on_a_missing_file(tmp_path: Path) -> None:
    code, out = invoke("rules", "test", str(tmp_path / "none.toml"))
    assert code == 1
    assert "no such test file" in out


def test_rules_test_runs_the_shipped_tests_from_any_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = invoke("rules", "test", *(str(p) for p in SHIPPED))
    assert code == 0, out
    assert " 0 failed" in out


def test_rules_check_warns_about_symbols_the_store_has_never_seen(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^RUT", price_frame([2000.0]))
    store.upsert_prices("^GSPC", price_frame([5000.0]))
    store.close()
    cfg = tmp_path / "config.toml"
    rule = '[[rules]]\nname = "{n}"\nmetric = "ratio"\nnumerator = "{s}"\ndenominator = "^GSPC"\n'
    rule += 'condition = "above"\nthreshold = 0.4\n'
    cfg.write_text('[store]\npath = "s.sqlite"\n' + rule.format(n="ok", s="^RUT") + rule.format(n="typo", s="^RUTX"))
    result = CliRunner().invoke(main, ["--config", str(cfg), "rules", "check"])
    assert result.exit_code == 0  # the data may come with the next fetch
    assert result.stderr == 'Warning: rule "typo": no prices stored for ^RUTX (a typo, or not fetched yet?)\n'
