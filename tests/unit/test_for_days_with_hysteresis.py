"""``for_days`` counts closes that meet the condition itself; the hysteresis band only keeps a firing rule firing."""

from __future__ import annotations

import datetime as dt

from rules.state import RuleState, State, Trigger, step

DAYS = [dt.date(2024, 7, d) for d in range(1, 10)]


def walk(trigger: Trigger, xs: list[float]) -> list[tuple[dt.date, bool, State]]:
    st, out = RuleState(), []
    for day, x in zip(DAYS, xs, strict=False):
        tr = step(trigger, st, day, x)
        st = tr.state
        out.append((day, tr.fired, st.state))
    return out


def test_a_pending_rule_needs_the_strict_test_every_day() -> None:
    trigger = Trigger("above", threshold=75, hysteresis=5, need=2)
    # 76 starts the count; 73 is inside the band but not above 75: the count starts again; 76, 77 fire.
    states = walk(trigger, [70, 76, 73, 76, 77])
    assert [d for d, f, _ in states if f] == [DAYS[4]]
    assert [s for _, _, s in states] == [State.INACTIVE, State.PENDING, State.INACTIVE, State.PENDING, State.FIRING]


def test_a_firing_rule_stays_firing_inside_the_band() -> None:
    trigger = Trigger("above", threshold=75, hysteresis=5, need=2)
    states = walk(trigger, [76, 77, 72, 71, 69, 76, 77])
    assert [s for _, _, s in states] == [
        State.PENDING,
        State.FIRING,
        State.FIRING,  # 72 and 71: inside the band, still firing
        State.FIRING,
        State.INACTIVE,  # 69: below 70, resolved
        State.PENDING,
        State.FIRING,
    ]
