"""Rule validation: every error path names the file, the rule and the field, and all errors come at once."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config.settings import parse_config
from bot.errors import ConfigFileError
from rules import ConfigError, Problem, load_rules
from rules.model import CONDITIONS, lookback_days

BASE: dict[str, Any] = {
    "name": "rut-spx-cross",
    "metric": "ratio",
    "numerator": "^RUT",
    "denominator": "^GSPC",
    "condition": "crosses_above",
    "threshold": 0.4,
}


def rule(**changes: Any) -> dict[str, Any]:
    """BASE with keys changed; a value of None removes the key."""
    r = {**BASE, **changes}
    return {k: v for k, v in r.items() if v is not None}


def problems(raw: list[Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_rules(raw, source="config.toml")
    return [str(p) for p in exc.value.problems]


# (changes to BASE, the field named, words the message must contain)
ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"threshold": "0,4"}, "threshold", 'expected a number, got "0,4"'),
    ({"threshold": True}, "threshold", "expected a number, got true"),
    ({"threshold": None}, "threshold", "is required for condition 'crosses_above'"),
    ({"condition": "crosses_over"}, "condition", "expected one of 'crosses_above', "),
    ({"condition": 3}, "condition", "got 3"),
    ({"metric": "nope"}, "metric", 'unknown metric "nope"; known: breadth, change, close'),
    ({"metric": 5}, "metric", "expected text, got 5"),
    ({"numerator": None}, "numerator", 'is required by metric "ratio"'),
    ({"numerator": 5}, "numerator", "expected text, got 5"),
    ({"window": 20}, "window", 'unknown key; metric "ratio" takes basis, denominator, numerator'),
    ({"treshold": 0.5}, "treshold", 'unknown key; did you mean "threshold"?'),
    ({"basis": "open"}, "basis", "expected one of 'close' or 'adj_close', got \"open\""),
    ({"condition": "between", "threshold": None, "high": 2.0}, "low", "is required for condition 'between'"),
    ({"condition": "outside", "threshold": None, "low": 1.0}, "high", "is required for condition 'outside'"),
    ({"condition": "between", "threshold": None, "low": 2.0, "high": 1.0}, "high", "must be above `low` (2), got 1"),
    ({"condition": "between", "low": 1.0, "high": 2.0}, "threshold", "uses `low` and `high`, not `threshold`"),
    ({"low": 1.0}, "low", "only `between` and `outside` use `low`"),
    ({"condition": "change_above"}, "days", "is required for condition 'change_above'"),
    ({"condition": "change_below", "days": 2.5}, "days", "expected a whole number, got 2.5"),
    ({"days": 0, "condition": "change_above"}, "days", "expected a value ≥ 1, got 0"),
    ({"hysteresis": -0.1}, "hysteresis", "expected a value ≥ 0, got -0.1"),
    ({"hysteresis": "wide"}, "hysteresis", 'expected a number, got "wide"'),
    ({"for_days": -1}, "for_days", "expected a value ≥ 0, got -1"),
    ({"for_days": 1.5}, "for_days", "expected a whole number, got 1.5"),
    ({"cooldown_days": "3"}, "cooldown_days", 'expected a whole number, got "3"'),
    ({"severity": "huge"}, "severity", "expected one of 'info', 'warning' or 'critical', got \"huge\""),
    ({"chats": 5}, "chats", "expected a list, got 5"),
    ({"chats": ["@me"]}, "chats.0", 'expected a whole number, got "@me"'),
    ({"resolve": 3}, "resolve", "expected true, false or a message template, got 3"),
    ({"enabled": "yes"}, "enabled", 'expected true or false, got "yes"'),
    ({"message": "{value:.3f} {foo}"}, "message", "unknown placeholder {foo}; known: change, condition, date"),
    ({"message": "{value:.3q}"}, "message", "bad template: Unknown format code 'q'"),
    ({"message": "{value"}, "message", "bad template: expected '}' before end of string"),
    ({"message": "{} above"}, "message", "positional placeholder {} is not allowed"),
    ({"message": "{counted} counted"}, "message", "unknown placeholder {counted}"),
    ({"resolve": "back to {valeu}"}, "resolve", "unknown placeholder {valeu}"),
    ({"message": 12}, "message", "expected text, got 12"),
    ({"horizons": [5, 0]}, "horizons", "horizons must be positive day counts"),
    ({"window": 0, "metric": "sma", "symbol": "^RUT", "numerator": None, "denominator": None}, "window", "≥ 1, got 0"),
]


@pytest.mark.parametrize(("changes", "field", "words"), ERRORS, ids=[f"{e[1]}-{i}" for i, e in enumerate(ERRORS)])
def test_error_names_file_rule_and_field(changes: dict[str, Any], field: str, words: str) -> None:
    found = problems([rule(**changes)])
    assert len(found) == 1, found
    assert found[0].startswith(f'config.toml: rule "rut-spx-cross" field "{field}": ')
    assert words in found[0]


def test_rule_without_name_is_labelled_by_position() -> None:
    found = problems([BASE, rule(name=None)])
    assert found == ['config.toml: rule "#2" field "name": is required']


def test_rule_with_non_text_name_is_labelled_by_position() -> None:
    found = problems([rule(name=5)])
    assert found == ['config.toml: rule "#1" field "name": expected text, got 5']


def test_empty_name() -> None:
    assert problems([rule(name="")]) == ['config.toml: rule "#1" field "name": must not be empty, got ""']


def test_duplicate_names() -> None:
    found = problems([BASE, rule(threshold=0.5)])
    assert found == ['config.toml: rule "rut-spx-cross" field "name": duplicate name (also rule #1)']


def test_entry_that_is_not_a_table() -> None:
    assert problems([BASE, 5]) == ['config.toml: rule "#2": each [[rules]] entry must be a table']


def test_rules_that_are_not_a_list() -> None:
    with pytest.raises(ConfigError) as exc:
        load_rules("rules", source="config.toml")  # type: ignore[arg-type]
    assert str(exc.value) == "config.toml: `rules` must be an array of tables ([[rules]])"


def test_every_error_is_listed_at_once() -> None:
    raw = [
        rule(name="a", threshold="0,4", severity="huge", window=3),
        rule(name="b", metric="nope"),
        rule(name="c", condition="between", threshold=None),
        rule(name="d", message="{nope}"),
    ]
    found = problems(raw)
    assert found == [
        'config.toml: rule "a" field "threshold": expected a number, got "0,4"',
        "config.toml: rule \"a\" field \"severity\": expected one of 'info', 'warning' or 'critical', got \"huge\"",
        'config.toml: rule "a" field "window": unknown key; metric "ratio" takes basis, denominator, numerator',
        'config.toml: rule "b" field "metric": unknown metric "nope"; known: '
        "breadth, change, close, cpi_surprise, ratio, relative, sma, sma_distance",
        'config.toml: rule "c" field "low": is required for condition \'between\'',
        'config.toml: rule "c" field "high": is required for condition \'between\'',
        'config.toml: rule "d" field "message": unknown placeholder {nope}; known: change, condition, date, days, '
        "direction, high, hysteresis, low, metric, previous, rule, severity, threshold, unit, value",
    ]


def test_config_file_errors_read_the_same_and_list_settings_too() -> None:
    with pytest.raises(ConfigFileError) as exc:
        parse_config({"store": {"path": 3}, "rules": [rule(threshold="0,4")]}, source="my.toml")
    lines = str(exc.value).splitlines()
    assert 'my.toml: field "store.path": expected text, got 3' in lines
    assert 'my.toml: rule "rut-spx-cross" field "threshold": expected a number, got "0,4"' in lines


def test_problem_without_a_file_still_names_rule_and_field() -> None:
    # Regression: without a source the rule used to be dropped ("field "x": …").
    assert str(Problem("bad", rule="r", field="f")) == 'rule "r" field "f": bad'
    assert str(Problem("bad", rule="r")) == 'rule "r": bad'
    assert str(Problem("bad", field="f", source="c.toml")) == 'c.toml: field "f": bad'
    assert str(Problem("bad")) == "bad"


def test_days_goes_to_both_the_metric_and_a_change_condition() -> None:
    # Regression: `days` is a rule key (change_* span) and a `relative` parameter; it used to reach only the rule.
    [r] = load_rules(
        [rule(metric="relative", numerator=None, denominator=None, symbol="^RUT", benchmark="^GSPC", days=10)]
    )
    assert r.params.days == 10  # type: ignore[attr-defined]
    [c] = load_rules([rule(condition="change_above", days=5)])
    assert c.spec.days == 5


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_loads_with_its_keys(condition: str) -> None:
    keys: dict[str, Any] = {"condition": condition}
    if condition in ("between", "outside"):
        keys.update(threshold=None, low=0.3, high=0.5)
    if condition.startswith("change_"):
        keys["days"] = 5
    [r] = load_rules([rule(**keys)])
    assert r.spec.condition == condition
    assert r.describe_condition().startswith(condition.replace("_", " "))


def test_valid_rule_with_every_option() -> None:
    [r] = load_rules(
        [
            rule(
                hysteresis=0.01,
                for_days=2,
                cooldown_days=5,
                resolve="back below: {value:.3f} on {date}",
                severity="warning",
                chats=[1, -100],
                message="{rule}: {value:.3f} ({change:+.2%}) vs {threshold} on {date:%d %b}",
            )
        ]
    )
    assert r.describe_condition() == "crosses above 0.4 (hysteresis 0.01, for 2 days, cooldown 5 days)"
    assert r.symbols == {"^RUT", "^GSPC"}
    assert r.resolve_template() == "back below: {value:.3f} on {date}"


def test_metric_placeholders_are_allowed_for_their_metric() -> None:
    [r] = load_rules(
        [{"name": "b", "metric": "breadth", "condition": "above", "threshold": 75, "message": "{counted}"}]
    )
    assert r.universes == {"sp500"}


def test_lookback_covers_windows_days_and_for_days() -> None:
    rs = load_rules(
        [
            {"name": "b", "metric": "breadth", "window": 150, "condition": "above", "threshold": 75},
            rule(name="c", condition="change_above", days=300),
            rule(name="f", for_days=40),
        ]
    )
    assert lookback_days(rs) == 302
    assert lookback_days(rs[:1]) == 151


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"condition": "crosses"}, "condition"),
        ({"for_days": 2}, "for_days"),
        ({"hysteresis": 0.1}, "hysteresis"),
        ({"resolve": True}, "resolve"),
    ],
)
def test_event_metrics_refuse_options_that_need_a_continuing_level(extra: dict[str, object], field: str) -> None:
    table = {"name": "cpi", "metric": "cpi_surprise", "condition": "below", "threshold": -0.05, **extra}
    with pytest.raises(ConfigError) as err:
        load_rules([table])
    [problem] = err.value.problems
    assert (problem.rule, problem.field) == ("cpi", field)
    assert "judges each release on its own" in problem.message
