"""Why a rule is in its state, in words: a state alone ("firing" at 0.4045 for "crosses below 0.4") reads wrong
when the hysteresis band, a pending streak or a cooldown is what holds it there."""

from __future__ import annotations

from rules.model import Rule
from rules.state import RuleState, State, trigger_for


def _num(x: float) -> str:
    return f"{x:.4g}"


def state_reason(rule: Rule, st: RuleState) -> str:
    """One short clause, e.g. "firing since 2024-07-17, held by the 0.01 hysteresis band until 0.39"."""
    t = trigger_for(rule)
    x = st.last_value
    if st.last_day is None or x is None:
        return f"{st.state.value}: not checked yet"
    if st.state is State.PENDING:
        return f"pending since {st.active_at}: {st.streak} of {t.need} days"
    if st.state is State.INACTIVE:
        return f"inactive since {st.resolved_at}" if st.resolved_at else "inactive"
    if st.notified:
        head = f"firing since {st.fired_at}"
    elif st.seeded or st.warm or st.fired_at is None:
        head = f"firing since {st.active_at} (no alert: it already held when the rule was first checked)"
    else:
        head = f"firing since {st.active_at} (no alert: within the cooldown after the alert of {st.fired_at})"
    if t.kind == "crosses":
        return f"{head}, {'above' if st.side > 0 else 'below'} {_num(t.threshold)}"
    if t.kind in ("above", "below") and not t.enter(x):
        until = t.threshold - t.hysteresis if t.kind == "above" else t.threshold + t.hysteresis
        return f"{head}, held by the {_num(t.hysteresis)} hysteresis band until {_num(until)}"
    if t.kind in ("between", "outside") and not t.enter(x):
        return f"{head}, held by the {_num(t.hysteresis)} hysteresis band"
    return head
