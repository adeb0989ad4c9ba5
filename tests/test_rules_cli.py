"""`rotation-bot rules check/test`, the rule-test file format, and the shipped rule tests run by pytest."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.cli.rules import config_rules
from rules import ConfigError
from rules.ruletest import RuleTest, load_test_file, parse_series, parse_test_file, run_test

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted((REPO / "tests" / "rules").glob("*.toml"))

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


# --- the shipped TOML cases, one pytest test each --------------------------------------------------


def shipped_cases() -> list[RuleTest]:
    return [t for path in SHIPPED for t in load_test_file(path, rule_loader=config_rules)]


@pytest.mark.parametrize("case", shipped_cases(), ids=lambda t: t.name)
def test_shipped_rule_case(case: RuleTest) -> None:
    result = run_test(case)
    assert result.ok, "\n".join(result.failures)


def test_shipped_tests_cover_every_default_rule() -> None:
    from bot.config.settings import load_config

    tested = {r.name for t in shipped_cases() for r in t.rules if t.expected}
    assert tested == {r.name for r in load_config(REPO / "config.toml").rules}


# --- the format -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("0.38 0.39 0.41", [0.38, 0.39, 0.41]),
        ("1+1x3", [1, 2, 3, 4]),
        ("5-0.5x2", [5, 4.5, 4]),
        ("7x2", [7, 7, 7]),
        ("1 _ 3", [1, None, 3]),
        ("_x2 1e2", [None, None, 100]),
        ("-1 +2 .5", [-1, 2, 0.5]),
    ],
)
def test_parse_series(text: str, want: list[float | None]) -> None:
    got = parse_series(text)
    assert [None if math.isnan(v) else pytest.approx(v) for v in got] == want


@pytest.mark.parametrize(("text", "words"), [("1 x", 'cannot read "x"'), ("_+1x2", "has no step"), ("", "empty")])
def test_parse_series_errors(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_series(text)


def test_every_problem_in_a_test_file_is_listed_at_once() -> None:
    data = {
        "rules": [{"name": "up", "metric": "ratio", "condition": "above", "threshold": "high"}],
        "tests": [
            {"name": "t1", "start": "2024-07-01", "rules": ["missing"], "input_series": {"A": "1 ?"}},
            {"name": "t2", "start": "2024-07-01", "input_series": {}},
        ],
    }
    with pytest.raises(ConfigError) as exc:
        parse_test_file(data, source="x_test.toml")
    lines = str(exc.value).splitlines()
    assert 'x_test.toml: rule "up" field "numerator": is required by metric "ratio"' in lines
    assert 'x_test.toml: rule "up" field "threshold": expected a number, got "high"' in lines
    assert any(line.startswith('x_test.toml: test "t1" field "rules": no rule named "missing"') for line in lines)
    assert any(line.startswith('x_test.toml: test "t1" field "input_series.A": cannot read "?"') for line in lines)
    assert any(
        line.startswith('x_test.toml: test "t2" field "input_series": needs at least one series') for line in lines
    )


def test_test_file_schema_errors_name_the_field() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_test_file({"tests": [{"name": "t", "start": "someday", "input_series": {"A": "1"}, "extra": 1}]})
    text = str(exc.value)
    assert 'field "tests.0.extra": unknown key' in text
    assert 'field "tests.0.start"' in text


def test_inline_rules_and_value_and_message_checks() -> None:
    data = {
        "tests": [
            {
                "name": "inline",
                "start": "2024-07-01",
                "rules": [{"name": "lo", "metric": "close", "symbol": "A", "condition": "below", "threshold": 1}],
                "input_series": {"A": "2 0.5"},
                "exp_alerts": [{"rule": "lo", "date": "2024-07-02", "value": 0.6, "message": "nope"}],
            }
        ]
    }
    [case] = parse_test_file(data)
    result = run_test(case)
    assert not result.ok
    assert result.failures[0] == "exp: 2024-07-02 lo firing value=0.6"
    assert result.failures[1] == "got: 2024-07-02 lo firing value=0.5"
    assert result.failures[2].startswith("exp: 2024-07-02 lo firing value=0.6 message='nope'")


def test_rules_check_warns_about_symbols_the_store_has_never_seen(tmp_path: Path) -> None:
    from bot.store.db import Store
    from tests.conftest import price_frame

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
