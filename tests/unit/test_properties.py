"""Properties of the engine on random series (hypothesis).

* replay gives exactly the alerts of the daily job run day by day on the data known each day;
* a crossing alert never fires twice without the value crossing back past threshold ∓ hysteresis;
* hysteresis never adds alerts to a crossing rule without for_days or cooldown_days.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Alert, MarketData, Rule, RuleState, evaluate, load_rules, replay
from rules.model import CONDITIONS
from tests.support.factories import market

T = 0.4
EXAMPLES = settings(max_examples=100, deadline=None)

# values near the threshold, on it, and far from it; None is a day without a close
POINTS = [0.37, 0.385, 0.39, 0.395, 0.4, 0.405, 0.41, 0.415, 0.43, None]
values = st.lists(st.one_of(st.sampled_from(POINTS), st.floats(0.3, 0.5)), min_size=2, max_size=30)


def make_rule(condition: str, **options: Any) -> Rule:
    table: dict[str, Any] = {"name": "r", "metric": "ratio", "numerator": "A", "denominator": "B"}
    table["condition"] = condition
    if condition in ("between", "outside"):
        table.update(low=0.37, high=0.43)  # wider than twice the largest hysteresis tried
    else:
        table["threshold"] = 0.01 if condition.startswith("change_") else T
    if condition.startswith("change_"):
        table["days"] = 2
    table.update(options)
    [rule] = load_rules([table])
    return rule


rules = st.builds(
    make_rule,
    st.sampled_from(CONDITIONS),
    hysteresis=st.sampled_from([0.0, 0.005, 0.02]),
    for_days=st.integers(0, 3),
    cooldown_days=st.integers(0, 3),
    resolve=st.booleans(),
)


def daily(rule: Rule, data: MarketData, first: int) -> list[Alert]:
    """The naive daily job: a new rule added on day ``first``, then one evaluate per day."""
    states: dict[str, RuleState] = {}
    out: list[Alert] = []
    for ts in data.close.index[first:]:
        ev = evaluate([rule], data.until(ts), states, ts.date())
        out += ev.alerts
        # what the bot persists and reads back
        states = {k: RuleState.from_dict(v.to_dict()) for k, v in ev.states.items()}
    return out


def fired(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind == "firing"]


@EXAMPLES
@given(values, rules, st.integers(0, 10))
def test_replay_equals_the_daily_job(xs: list[float | None], rule: Rule, first: int) -> None:
    data = market(xs)
    first = min(first, len(xs) - 1)
    idx = data.close.index
    got = replay([rule], data, idx[first].date(), idx[-1].date()).alerts
    assert got == daily(rule, data, first)


@EXAMPLES
@given(
    values,
    st.sampled_from(["crosses_above", "crosses_below", "crosses"]),
    st.sampled_from([0.0, 0.005, 0.02]),
    st.integers(0, 3),
    st.integers(0, 3),
)
def test_no_crossing_alert_twice_without_crossing_back(
    xs: list[float | None], condition: str, h: float, for_days: int, cooldown: int
) -> None:
    rule = make_rule(condition, hysteresis=h, for_days=for_days, cooldown_days=cooldown)
    data = market(xs)
    series = data.close["A"].dropna()
    idx = data.close.index
    alerts = fired(replay([rule], data, idx[0].date(), idx[-1].date()).alerts)
    for a, b in itertools.pairwise(alerts):
        between = series[(series.index > pd.Timestamp(a.date)) & (series.index < pd.Timestamp(b.date))]
        if condition == "crosses_above":  # re-armed once the value is back at or under threshold − hysteresis
            assert (between <= T - h).any(), (a, b)
        elif condition == "crosses_below":
            assert (between >= T + h).any(), (a, b)
        elif a.direction == b.direction == "above":  # `crosses`: the other side lies strictly past the band
            assert (between < T - h).any(), (a, b)
        elif a.direction == b.direction == "below":
            assert (between > T + h).any(), (a, b)
        if condition == "crosses" and cooldown == 0:  # nothing suppressed: sides alternate
            assert a.direction != b.direction, (a, b)


@EXAMPLES
@given(
    values,
    st.sampled_from(["crosses_above", "crosses_below", "crosses"]),
    st.sampled_from([0.005, 0.02, 0.05]),
)
def test_hysteresis_never_adds_alerts(xs: list[float | None], condition: str, h: float) -> None:
    data = market(xs)
    idx = data.close.index

    def count(rule: Rule) -> int:
        return len(fired(replay([rule], data, idx[0].date(), idx[-1].date()).alerts))

    assert count(make_rule(condition, hysteresis=h)) <= count(make_rule(condition))


@EXAMPLES
@given(values, rules, st.data())
def test_evaluating_a_day_again_changes_nothing(xs: list[float | None], rule: Rule, draw: st.DataObject) -> None:
    data = market(xs)
    i = draw.draw(st.integers(0, len(xs) - 1))
    day = data.close.index[i].date()
    once = evaluate([rule], data, {}, data.close.index[-1].date())
    again = evaluate([rule], data, once.states, data.close.index[-1].date())
    assert again.alerts == [] and again.states == once.states
    earlier = evaluate([rule], data, once.states, day)
    assert earlier.alerts == [] and earlier.states == once.states
