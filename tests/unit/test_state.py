"""The alert lifecycle, one table row per transition (like Prometheus' TestKeepFiringFor)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from rules.state import RuleState, State, Trigger, step

D0 = dt.date(2024, 7, 16)
D1 = dt.date(2024, 7, 17)

ABOVE = Trigger("above", threshold=0.4)
CROSS_ABOVE = Trigger("above", threshold=0.4, crossing=True)
CROSS_BELOW = Trigger("below", threshold=0.4, crossing=True)
HYST = Trigger("above", threshold=0.4, hysteresis=0.01, crossing=True)
FOR3 = Trigger("above", threshold=0.4, crossing=True, need=3)
COOL5 = Trigger("above", threshold=0.4, crossing=True, cooldown=5)
BETWEEN = Trigger("between", low=1.0, high=2.0, hysteresis=0.1)
OUTSIDE = Trigger("outside", low=1.0, high=2.0, hysteresis=0.1)
CROSSES = Trigger("crosses", threshold=0.4, hysteresis=0.01, crossing=True)
CROSSES2 = Trigger("crosses", threshold=0.4, crossing=True, need=2)
CROSSES_COOL = Trigger("crosses", threshold=0.4, crossing=True, cooldown=3)

INACTIVE = RuleState(active=False, last_day=D0, last_value=0.39)
FIRING = RuleState(State.FIRING, active=True, streak=2, notified=True, since_fired=1, fired_at=D0, last_day=D0)
SEEDED = RuleState(State.FIRING, active=True, streak=2, seeded=True, last_day=D0)


@dataclass(frozen=True)
class Row:
    name: str
    trigger: Trigger
    before: RuleState
    x: float
    state: State
    fired: bool = False
    resolved: bool = False
    direction: str = ""
    expect: dict[str, Any] = field(default_factory=dict)  # other RuleState fields to check
    day: dt.date = D1


ROWS = [
    # level conditions fire on entering, even on the first observation
    Row("level: first value above fires", ABOVE, RuleState(), 0.41, State.FIRING, fired=True, direction="above"),
    Row("level: first value below stays inactive", ABOVE, RuleState(), 0.39, State.INACTIVE, expect={"active": False}),
    Row("level: enters", ABOVE, INACTIVE, 0.41, State.FIRING, fired=True, expect={"fired_at": D1, "since_fired": 0}),
    Row("level: at the threshold is not above", ABOVE, INACTIVE, 0.4, State.INACTIVE),
    Row("level: keeps firing without a new alert", ABOVE, FIRING, 0.5, State.FIRING, expect={"streak": 3}),
    Row(
        "level: stops holding, resolves", ABOVE, FIRING, 0.3, State.INACTIVE, resolved=True, expect={"resolved_at": D1}
    ),
    # crossing conditions need to have seen the other side first
    Row(
        "cross: first value above is no crossing", CROSS_ABOVE, RuleState(), 0.41, State.FIRING, expect={"seeded": True}
    ),
    Row("cross: seeded episode continues quietly", CROSS_ABOVE, SEEDED, 0.42, State.FIRING, expect={"notified": False}),
    Row("cross: seeded episode ends without resolve", CROSS_ABOVE, SEEDED, 0.3, State.INACTIVE, resolved=False),
    Row("cross: crossing up fires", CROSS_ABOVE, INACTIVE, 0.41, State.FIRING, fired=True, direction="above"),
    Row(
        "cross: crossing down fires", CROSS_BELOW, RuleState(active=False, last_day=D0), 0.39, State.FIRING, fired=True
    ),
    Row("cross: firing, back below resolves", CROSS_ABOVE, FIRING, 0.39, State.INACTIVE, resolved=True),
    # hysteresis: on at the threshold, off only past threshold − hysteresis
    Row("hyst: enters at the threshold", HYST, INACTIVE, 0.401, State.FIRING, fired=True),
    Row("hyst: a dip inside the band keeps firing", HYST, FIRING, 0.395, State.FIRING, expect={"active": True}),
    Row("hyst: past the band resolves", HYST, FIRING, 0.389, State.INACTIVE, resolved=True),
    Row("hyst: inside the band does not re-arm the entry", HYST, INACTIVE, 0.395, State.INACTIVE),
    # for_days: pending until the Nth consecutive day
    Row("for: day 1 is pending", FOR3, INACTIVE, 0.41, State.PENDING, expect={"streak": 1, "active_at": D1}),
    Row(
        "for: day 2 is pending",
        FOR3,
        RuleState(State.PENDING, active=True, streak=1, active_at=D0, last_day=D0),
        0.41,
        State.PENDING,
        expect={"streak": 2, "active_at": D0},
    ),
    Row(
        "for: day 3 fires",
        FOR3,
        RuleState(State.PENDING, active=True, streak=2, active_at=D0, last_day=D0),
        0.41,
        State.FIRING,
        fired=True,
        expect={"active_at": D0, "fired_at": D1},
    ),
    Row(
        "for: pending that stops holding goes inactive quietly",
        FOR3,
        RuleState(State.PENDING, active=True, streak=2, last_day=D0),
        0.39,
        State.INACTIVE,
        expect={"streak": 0},
    ),
    # cooldown_days: no new alert within N observations of the last
    Row(
        "cool: too soon is suppressed",
        COOL5,
        RuleState(active=False, since_fired=3, last_day=D0),
        0.41,
        State.FIRING,
        expect={"notified": False, "since_fired": 4},
    ),
    Row(
        "cool: after N observations fires",
        COOL5,
        RuleState(active=False, since_fired=4, last_day=D0),
        0.41,
        State.FIRING,
        fired=True,
        expect={"since_fired": 0},
    ),
    Row(
        "cool: suppressed episode ends without resolve",
        COOL5,
        RuleState(State.FIRING, active=True, streak=1, notified=False, since_fired=2, last_day=D0),
        0.39,
        State.INACTIVE,
        resolved=False,
    ),
    # ranges, with hysteresis widening the way out
    Row("between: enters", BETWEEN, RuleState(active=False, last_day=D0), 1.5, State.FIRING, fired=True),
    Row("between: edge is inside", BETWEEN, RuleState(active=False, last_day=D0), 2.0, State.FIRING, fired=True),
    Row("between: band keeps it", BETWEEN, FIRING, 2.05, State.FIRING),
    Row("between: leaves", BETWEEN, FIRING, 2.2, State.INACTIVE, resolved=True),
    Row("outside: enters", OUTSIDE, RuleState(active=False, last_day=D0), 0.9, State.FIRING, fired=True),
    Row("outside: band keeps it", OUTSIDE, FIRING, 1.05, State.FIRING),
    Row("outside: back inside", OUTSIDE, FIRING, 1.5, State.INACTIVE, resolved=True),
    Row("outside: inside the band is not outside", OUTSIDE, RuleState(active=False, last_day=D0), 1.05, State.INACTIVE),
    # crosses: every change of side, with a symmetric band
    Row("crosses: first value sets the side", CROSSES, RuleState(), 0.5, State.INACTIVE, expect={"side": 1}),
    Row(
        "crosses: inside the band keeps the side",
        CROSSES,
        RuleState(side=-1, observed=-1, last_day=D0),
        0.405,
        State.INACTIVE,
        expect={"side": -1},
    ),
    Row(
        "crosses: up past the band fires above",
        CROSSES,
        RuleState(side=-1, observed=-1, last_day=D0),
        0.42,
        State.FIRING,
        fired=True,
        direction="above",
        expect={"side": 1},
    ),
    Row(
        "crosses: down past the band fires below",
        CROSSES,
        RuleState(State.FIRING, side=1, observed=1, notified=True, last_day=D0),
        0.38,
        State.FIRING,
        fired=True,
        direction="below",
        expect={"side": -1},
    ),
    Row(
        "crosses: new side pending for_days",
        CROSSES2,
        RuleState(side=-1, observed=-1, last_day=D0),
        0.5,
        State.PENDING,
        expect={"side": -1, "streak": 1},
    ),
    Row(
        "crosses: new side held for_days fires",
        CROSSES2,
        RuleState(State.PENDING, side=-1, observed=1, streak=1, last_day=D0),
        0.5,
        State.FIRING,
        fired=True,
        direction="above",
    ),
    Row(
        "crosses: back to the old side cancels pending",
        CROSSES2,
        RuleState(State.PENDING, side=-1, observed=1, streak=1, last_day=D0),
        0.3,
        State.INACTIVE,
        expect={"side": -1, "streak": 0},
    ),
    Row(
        "crosses: cooldown flips the side quietly",
        CROSSES_COOL,
        RuleState(State.FIRING, side=1, observed=1, notified=True, since_fired=0, last_day=D0),
        0.3,
        State.FIRING,
        expect={"side": -1},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_transition(row: Row) -> None:
    tr = step(row.trigger, row.before, row.day, row.x)
    assert tr.state.state is row.state
    assert tr.fired is row.fired
    assert tr.resolved is row.resolved
    if row.direction:
        assert tr.direction == row.direction
    assert tr.state.last_day == row.day
    assert tr.state.last_value == row.x
    for key, value in row.expect.items():
        assert getattr(tr.state, key) == value, key


@pytest.mark.parametrize("day", [D0, D0 - dt.timedelta(days=3)])
def test_a_day_already_evaluated_changes_nothing(day: dt.date) -> None:
    tr = step(ABOVE, INACTIVE, day, 0.9)
    assert tr.state == INACTIVE
    assert not tr.fired


def test_pending_for_days_walk() -> None:
    """Three days above with for_days=3: pending, pending, firing; then resolved."""
    st = RuleState(active=False, last_day=D0)
    seen = []
    for i, x in enumerate([0.41, 0.42, 0.43, 0.44, 0.3]):
        tr = step(FOR3, st, D0 + dt.timedelta(days=i + 1), x)
        st = tr.state
        seen.append((st.state.value, tr.fired, tr.resolved))
    assert seen == [
        ("pending", False, False),
        ("pending", False, False),
        ("firing", True, False),
        ("firing", False, False),
        ("inactive", False, True),
    ]


def test_state_round_trips_through_a_plain_dict() -> None:
    st = RuleState(
        State.FIRING,
        active=True,
        side=1,
        observed=1,
        streak=4,
        notified=True,
        since_fired=2,
        active_at=D0,
        fired_at=D1,
        last_day=D1,
        last_value=0.401,
    )
    d = st.to_dict()
    assert d["state"] == "firing"
    assert d["fired_at"] == "2024-07-17"
    assert RuleState.from_dict(d) == st
    assert RuleState.from_dict({**d, "unknown_future_key": 1}) == st
    assert RuleState.from_dict({}) == RuleState()
