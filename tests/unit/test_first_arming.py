"""The first arming of a crossing rule: the band guards a firing, not a count that never completed.

Decided (README, "hysteresis" row): the ``hysteresis`` band keeps a rule that fires (or that was seen already
on the far side, quietly) where it is; a rule only *pending* (its ``for_days`` not yet met) is held by the
threshold itself, so a close back below the threshold arms it, however shallow. breadth-above-75 first fires on
2010-10-22 after a dip to 74.48% on 10-19 for this reason: its first days above 75 never made the 3 of ``for_days``.
"""

from __future__ import annotations

import datetime as dt

from rules.state import RuleState, State, Trigger, step

DAYS = [dt.date(2010, 10, 11) + dt.timedelta(days=i) for i in range(12)]


def walk(trigger: Trigger, xs: list[float]) -> list[tuple[bool, State]]:
    st, out = RuleState(), []
    for day, x in zip(DAYS, xs, strict=False):
        tr = step(trigger, st, day, x)
        st = tr.state
        out.append((tr.fired, st.state))
    return out


BREADTH = Trigger("above", threshold=75, hysteresis=5, crossing=True, need=3)


def test_a_first_run_short_of_for_days_is_armed_by_a_shallow_dip() -> None:
    # first seen above 75 for two days (pending, and no crossing seen), 74.48 inside the band, then three above
    states = walk(BREADTH, [76.0, 76.5, 74.48, 76.0, 76.2, 76.4])
    assert [f for f, _ in states] == [False, False, False, False, False, True]
    assert states[2][1] is State.INACTIVE  # the pending count ended: the threshold, not the band, held it


def test_a_rule_seen_firing_from_its_first_day_needs_the_band() -> None:
    # with its for_days met on the far side at once, it is firing (quietly): a dip into the band does not re-arm
    states = walk(BREADTH, [76.0, 76.5, 76.8, 74.48, 76.0, 76.2, 76.4, 69.0, 76.0, 76.1, 76.2])
    fired = [i for i, (f, _) in enumerate(states) if f]
    assert fired == [10]  # only after 69 (below 70) and three closes above 75 again
    assert states[3][1] is State.FIRING


def test_after_a_firing_a_shallow_dip_does_not_re_arm() -> None:
    states = walk(BREADTH, [70.0, 76.0, 76.5, 76.8, 74.48, 76.0, 76.2, 76.4])
    assert [i for i, (f, _) in enumerate(states) if f] == [3]
