"""evaluate and replay: idempotence, restarts, catch-up, isolated errors, messages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from rules import Alert, ConfigError, MarketData, Rule, RuleState, State, evaluate, load_rules, replay
from tests.support.factories import market

RATIO: dict[str, Any] = {
    "name": "up",
    "metric": "ratio",
    "numerator": "A",
    "denominator": "B",
    "condition": "crosses_above",
    "threshold": 0.4,
}
VALUES = [0.38, 0.39, 0.41, 0.42, 0.39, 0.40, 0.41, 0.43, 0.39]  # up-crossings on days 2 and 6
START = "2024-07-01"  # the first business day of every series here


def day(data: MarketData, i: int) -> dt.date:
    day: dt.date = data.close.index[i].date()
    return day


def rules(*tables: dict[str, Any]) -> list[Rule]:
    return load_rules(list(tables) or [RATIO])


def daily(rs: list[Rule], data: MarketData, states: dict[str, RuleState] | None = None) -> list[Alert]:
    """The daily job, one day at a time, with the data as known that day."""
    states = dict(states or {})
    out: list[Alert] = []
    for ts in data.close.index:
        ev = evaluate(rs, data.until(ts), states, ts.date())
        out += ev.alerts
        states = ev.states
    return out


def test_evaluating_the_same_day_twice_gives_the_same_result() -> None:
    rs, data = rules(), market(VALUES, start=START)
    first = evaluate(rs, data, {"up": RuleState()}, day(data, 1))
    second = evaluate(rs, data, first.states, day(data, 2))
    assert [a.date for a in second.alerts] == [day(data, 2)]
    again = evaluate(rs, data, second.states, day(data, 2))
    assert again.alerts == []
    assert again.states == second.states
    assert again.results[0].value == second.results[0].value == pytest.approx(0.41)


def test_a_restart_from_the_persisted_state_never_refires() -> None:
    rs, data = rules(), market(VALUES, start=START)
    states: dict[str, RuleState] = {}
    sent = []
    for i in range(len(VALUES)):
        ev = evaluate(rs, data, states, day(data, i))
        sent += ev.alerts
        # the bot writes the state as JSON-ish dict and reads it back after a restart; then runs the same day again
        states = {k: RuleState.from_dict(v.to_dict()) for k, v in ev.states.items()}
        assert evaluate(rs, data, states, day(data, i)).alerts == []
    assert [a.date for a in sent] == [day(data, 2), day(data, 6)]


def test_catch_up_after_missed_days_sends_each_missed_alert_once() -> None:
    rs, data = rules(), market(VALUES, start=START)
    ev = evaluate(rs, data, {}, day(data, 0))
    assert ev.alerts == []  # a new rule warms up silently
    caught_up = evaluate(rs, data, ev.states, day(data, 8))  # the bot was down for a week
    assert [a.date for a in caught_up.alerts] == [day(data, 2), day(data, 6)]
    assert caught_up.alerts == daily(rs, data)
    assert caught_up.states["up"].last_day == day(data, 8)


def test_a_new_rule_alerts_only_for_the_day_it_is_added() -> None:
    rs, data = rules(), market(VALUES, start=START)
    assert evaluate(rs, data, {}, day(data, 5)).alerts == []  # the crossing on day 2 is history
    assert [a.date for a in evaluate(rs, data, {}, day(data, 6)).alerts] == [day(data, 6)]


def test_a_rule_whose_data_is_missing_fails_alone() -> None:
    broken = {**RATIO, "name": "broken", "numerator": "ZZZ"}
    rs, data = rules(broken, RATIO), market(VALUES, start=START)
    states = evaluate(rs, data, {}, day(data, 1)).states
    ev = evaluate(rs, data, states, day(data, 2))
    by_name = {r.rule.name: r for r in ev.results}
    assert by_name["broken"].error == "no prices stored for symbol 'ZZZ'"
    assert by_name["broken"].state == RuleState()
    assert [a.rule for a in ev.alerts] == ["up"]
    rep = replay(rs, data, day(data, 0), day(data, 8))
    assert rep.errors == {"broken": "no prices stored for symbol 'ZZZ'"}
    assert rep.counts == {"broken": 0, "up": 2}


def test_disabled_rules_are_skipped() -> None:
    rs, data = rules({**RATIO, "enabled": False}), market(VALUES, start=START)
    ev = evaluate(rs, data, {}, day(data, 2))
    assert ev.results[0].error == "disabled"
    assert replay(rs, data, day(data, 0), day(data, 8)).alerts == []


def test_replay_lists_alerts_with_counts_and_messages() -> None:
    rs = rules(
        {**RATIO, "message": "{rule}: {value:.3f} > {threshold} (from {previous:.2f}, {change:+.2f}) on {date:%d %b}"},
        {**RATIO, "name": "down", "condition": "crosses_below", "resolve": True, "severity": "warning", "chats": [7]},
    )
    data = market(VALUES, start=START)
    rep = replay(rs, data, day(data, 0), day(data, 8))
    got = [(a.date.isoformat(), a.rule, a.kind) for a in rep.alerts]
    assert got == [
        ("2024-07-03", "up", "firing"),  # "down" was below from the start: no crossing, nothing to resolve
        ("2024-07-05", "down", "firing"),
        ("2024-07-08", "down", "resolved"),  # 0.40 is not below 0.4
        ("2024-07-09", "up", "firing"),
        ("2024-07-11", "down", "firing"),
    ]
    assert rep.counts == {"up": 2, "down": 2}
    first = rep.alerts[0]
    assert first.message == "up: 0.410 > 0.4 (from 0.39, +0.02) on 03 Jul"
    assert first.previous == pytest.approx(0.39)
    assert first.chats is None
    down = rep.alerts[1]
    assert down.severity == "warning" and down.chats == (7,) and down.direction == "below"
    assert rep.alerts[2].message == "Resolved: A / B no longer meets down (0.4 on 2024-07-08)"
    assert first.key == "up|2024-07-03|firing"
    assert first.to_dict()["date"] == "2024-07-03"


def test_replay_from_a_later_day_warms_up_on_earlier_history() -> None:
    rs, data = rules(), market(VALUES, start=START)
    rep = replay(rs, data, day(data, 3), day(data, 8))
    assert [a.date for a in rep.alerts] == [day(data, 6)]  # day 3 is still the episode begun on day 2


def test_change_conditions_compare_the_move_over_days() -> None:
    rs = rules({**RATIO, "name": "jump", "condition": "change_above", "threshold": 0.015, "days": 2})
    data = market(VALUES, start=START)
    rep = replay(rs, data, day(data, 0), day(data, 8))
    # moves over 2 days: +.03 +.03 -.02 -.02 +.02 +.03 -.04 — the level condition fires on entering
    assert [a.date for a in rep.alerts] == [day(data, 2), day(data, 6)]
    assert rep.alerts[0].message == "A / B rose +0.03 over 2 days to 0.41 on 2024-07-03"


def test_for_days_and_cooldown_through_the_engine() -> None:
    data = market([0.3, 0.5, 0.5, 0.5, 0.3, 0.5, 0.3, 0.5, 0.5, 0.5], start=START)
    held = rules({**RATIO, "for_days": 3})
    assert [a.date for a in replay(held, data, day(data, 0), day(data, 9)).alerts] == [day(data, 3), day(data, 9)]
    cool = rules({**RATIO, "cooldown_days": 5})
    assert [a.date for a in replay(cool, data, day(data, 0), day(data, 9)).alerts] == [day(data, 1), day(data, 7)]


def test_event_metrics_judge_each_release_on_its_own() -> None:
    idx = pd.DatetimeIndex(pd.to_datetime(["2024-06-12", "2024-07-11", "2024-08-14", "2024-09-11"]), name="date")
    frame = pd.DataFrame(
        {
            "month": ["2024-05", "2024-06", "2024-07", "2024-08"],
            "actual_core_mom": [0.2, 0.1, 0.2, 0.2],
            "expected_core_mom": [0.3, 0.2, 0.2, 0.3],
        },
        index=idx,
    )
    data = MarketData(close=pd.DataFrame(index=pd.DatetimeIndex([], name="date")), cpi=frame)
    rs = rules(
        {"name": "cpi", "metric": "cpi_surprise", "measure": "core_mom", "condition": "below", "threshold": -0.05}
    )
    rep = replay(rs, data, dt.date(2024, 6, 1), dt.date(2024, 9, 30))
    assert [a.date.isoformat() for a in rep.alerts] == ["2024-06-12", "2024-07-11", "2024-09-11"]
    assert rep.alerts[1].details["month"] == "2024-06"


def test_results_report_the_latest_value_and_state() -> None:
    rs, data = rules(), market(VALUES, start=START)
    ev = evaluate(rs, data, {}, day(data, 3))
    r = ev.results[0]
    assert r.value == pytest.approx(0.42)
    assert r.date == day(data, 3)
    assert r.state.state is State.FIRING
    assert r.error is None
    assert not math.isnan(r.state.last_value or math.nan)


def test_a_new_rule_never_resolves_or_cools_down_an_episode_nobody_was_told_about() -> None:
    data = market([0.41, 0.42, 0.43, 0.39, 0.38], start=START)
    level = dict(RATIO, name="lvl", condition="above", resolve=True)
    # Added on day 2 while already above: it fires that day (a level rule), not for the warm-up's episode.
    ev = evaluate(rules(level), data, {}, day(data, 2))
    assert [(a.kind, a.date) for a in ev.alerts] == [("firing", day(data, 2))]
    # Added on day 1 and checked through day 4: the resolve follows the alert it sent on day 1 only.
    first = evaluate(rules(level), data.until(data.close.index[1]), {}, day(data, 1))
    later = evaluate(rules(level), data, first.states, day(data, 4))
    assert [a.kind for a in first.alerts + later.alerts] == ["firing", "resolved"]
    # A crossing during warm-up does not start a cooldown that would swallow the first real crossing.
    crossing = dict(RATIO, name="x", cooldown_days=10)
    data = market([0.38, 0.41, 0.39, 0.41], start=START)
    ev = evaluate(rules(crossing), data, {}, day(data, 3))
    assert [a.date for a in ev.alerts] == [day(data, 3)]


@pytest.mark.parametrize(
    ("table", "values", "expected"),
    [
        (dict(RATIO, condition="below", resolve=True), [0.41, 0.39, 0.41], ["below", "above"]),
        (dict(RATIO, condition="crosses_below", resolve=True), [0.41, 0.39, 0.41], ["below", "above"]),
        (dict(RATIO, condition="above", resolve=True), [0.39, 0.41, 0.39], ["above", "below"]),
        (dict(RATIO, condition="crosses", threshold=0.4), [0.39, 0.41, 0.39], ["above", "below"]),
        (
            {**RATIO, "condition": "outside", "low": 0.3, "high": 0.5, "resolve": True},
            [0.4, 0.2, 0.4],
            ["below", "inside"],
        ),
        ({**RATIO, "condition": "outside", "low": 0.3, "high": 0.5}, [0.4, 0.6], ["above"]),
        (
            {**RATIO, "condition": "between", "low": 0.3, "high": 0.5, "resolve": True},
            [0.6, 0.4, 0.7],
            ["inside", "above"],
        ),
    ],
)
def test_direction_says_where_the_value_went(table: dict[str, Any], values: list[float], expected: list[str]) -> None:
    for key in ("threshold",):
        if table["condition"] in ("between", "outside"):
            table = {k: v for k, v in table.items() if k != key}
    data = market(values, start=START)
    got = replay(rules(table), data, day(data, 1), day(data, len(values) - 1)).alerts
    assert [a.direction for a in got] == expected


def test_change_rules_quote_the_value_days_back_as_previous() -> None:
    table = {**RATIO, "condition": "change_above", "threshold": 0.05, "days": 3, "message": "{previous} {change:+.2f}"}
    data = market([0.30, 0.31, 0.32, 0.33, 0.40], start=START)
    [alert] = replay(rules(table), data, day(data, 1), day(data, 4)).alerts
    assert alert.message == "0.31 +0.09"


def test_outside_hysteresis_applies_to_the_side_it_left_on() -> None:
    table = {**RATIO, "condition": "outside", "low": 10, "high": 20, "hysteresis": 2, "resolve": True}
    del table["threshold"]
    data = market([15, 5, 19, 11, 5, 11.5, 12.5], start=START)  # out below; jump back inside near the top: resolved
    got = replay(rules(table), data, day(data, 1), day(data, 6)).alerts
    assert [(a.kind, a.date) for a in got] == [
        ("firing", day(data, 1)),
        ("resolved", day(data, 2)),  # 19 is inside; the band is at the low side, where it left
        ("firing", day(data, 4)),
        ("resolved", day(data, 6)),  # 11.5 is still within the band above 10; 12.5 is past it
    ]


def test_an_outside_hysteresis_of_half_the_range_or_more_is_refused() -> None:
    table = {**RATIO, "condition": "outside", "low": 10, "high": 20, "hysteresis": 5}
    del table["threshold"]
    with pytest.raises(ConfigError, match='field "hysteresis": must be under half the range'):
        rules(table)
    rules({**table, "condition": "between"})  # between's band reaches outward: any width is fine


def test_going_live_inside_the_hysteresis_band_does_not_fire() -> None:
    """Above 0.4 with a 0.02 band during warm-up, 0.39 on the first live day: still inside the band, not above."""
    table = dict(RATIO, condition="above", hysteresis=0.02)
    data = market([0.41, 0.39, 0.42], start=START)
    ev = evaluate(rules(table), data.until(data.close.index[1]), {}, day(data, 1))
    assert ev.alerts == []
    assert replay(rules(table), data, day(data, 1), day(data, 1)).alerts == []
