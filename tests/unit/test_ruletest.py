"""The rule-test file format (rules/ruletest.py), and the shipped rule tests in tests/rules/, one pytest test each."""

from __future__ import annotations

import math

import pytest

from bot.cli.rules import config_rules
from bot.config.settings import load_config
from rules import ConfigError
from rules.ruletest import RuleTest, load_test_file, parse_series, parse_test_file, run_test
from tests.support.paths import REPO, RULE_TESTS

SHIPPED = sorted(RULE_TESTS.glob("*.toml"))


# --- the shipped TOML cases, one pytest test each --------------------------------------------------


def shipped_cases() -> list[RuleTest]:
    return [t for path in SHIPPED for t in load_test_file(path, rule_loader=config_rules)]


@pytest.mark.parametrize("case", shipped_cases(), ids=lambda t: t.name)
def test_shipped_rule_case(case: RuleTest) -> None:
    result = run_test(case)
    assert result.ok, "\n".join(result.failures)


def test_shipped_tests_cover_every_default_rule() -> None:
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
