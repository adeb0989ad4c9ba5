"""Alert lifecycle: one state value per rule and one pure transition.

Modelled on Prometheus' alerting rules: a condition that starts holding makes the rule
``pending``; once it has held ``for_days`` observations it is ``firing`` and an alert goes out;
when it stops holding the rule goes back to ``inactive`` (``resolved_at`` set, and a resolve
message if the rule asks for one). The condition itself is a Schmitt trigger: it turns on at the
threshold and turns off only past ``threshold ∓ hysteresis``, so a value dithering around the
line cannot re-arm a crossing.

Crossing conditions differ from level ones in one way: a crossing needs to have seen the value on
the other side first, so a rule created while the ratio is already above 0.4 stays quiet until the
ratio has been below and crosses again. ``crosses`` (either way) fires on every change of side.

Hysteresis never adds alerts to a crossing rule without ``for_days`` or ``cooldown_days`` (every
re-arm past the band is also a re-arm at the threshold). With ``for_days`` it can: the Schmitt
trigger merges short runs above the threshold separated by shallow dips into one run that lasts
long enough. With ``cooldown_days`` too: a longer first episode can end after the cooldown, where
without hysteresis a re-entry inside the cooldown would have been suppressed. ``crosses`` never
sends a resolve message (it has no "stopped holding"); a cooldown flips its side quietly.

``RuleState`` is a plain frozen value, so the bot stores it as a row and hands it back after a
restart; evaluating a day already evaluated changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rules.model import CROSSING, Rule


class State(enum.StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True)
class RuleState:
    """Where a rule stands after the last day it evaluated."""

    state: State = State.INACTIVE
    active: bool | None = None  # the (hysteresis-aware) condition on last_day; None: never observed
    side: int = 0  # `crosses` only: confirmed side, +1 above / -1 below / 0 unknown
    observed: int = 0  # `crosses` only: side seen on last_day
    streak: int = 0  # consecutive observations the condition (or the new side) has held
    seeded: bool = False  # this episode began on the very first observation (no crossing seen)
    notified: bool = False  # this firing episode sent an alert
    warm: bool = False  # this firing episode began while the rule warmed up on history (nobody was told)
    since_fired: int | None = None  # observations since the last alert (cooldown)
    active_at: dt.date | None = None
    fired_at: dt.date | None = None
    resolved_at: dt.date | None = None
    last_day: dt.date | None = None
    last_value: float | None = None
    definition: str | None = None  # the fingerprint of the rule that reached this state (None: not recorded)

    def but(self, **changes: Any) -> RuleState:
        """A copy with ``changes``: ``dataclasses.replace`` without re-running ``__init__``, which the
        engine's day-by-day walk would otherwise pay on every day of a long firing episode."""
        new = object.__new__(RuleState)
        new.__dict__.update(self.__dict__, **changes)
        return new

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        for k in ("active_at", "fired_at", "resolved_at", "last_day"):
            d[k] = d[k].isoformat() if d[k] else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RuleState:
        kw = dict(d)
        kw["state"] = State(kw.get("state", "inactive"))
        for k in ("active_at", "fired_at", "resolved_at", "last_day"):
            v = kw.get(k)
            kw[k] = dt.date.fromisoformat(v) if isinstance(v, str) and v else None
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in kw.items() if k in known})


@dataclass(frozen=True)
class Transition:
    """What one observation did: ``fired``/``resolved`` say whether to send something."""

    state: RuleState
    fired: bool = False
    resolved: bool = False
    direction: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trigger:
    """The numeric part of a condition, precomputed once per rule."""

    kind: str  # above | below | between | outside | crosses
    threshold: float = math.nan
    low: float = math.nan
    high: float = math.nan
    hysteresis: float = 0.0
    crossing: bool = False
    need: int = 1  # observations the condition must hold before firing
    cooldown: int = 0

    def enter(self, x: float) -> bool:
        if self.kind == "above":
            return x > self.threshold
        if self.kind == "below":
            return x < self.threshold
        if self.kind == "between":
            return self.low <= x <= self.high
        if self.kind == "outside":
            return x < self.low or x > self.high
        raise AssertionError(self.kind)

    def stay(self, x: float) -> bool:
        h = self.hysteresis
        if self.kind == "above":
            return x > self.threshold - h
        if self.kind == "below":
            return x < self.threshold + h
        if self.kind == "between":
            return self.low - h <= x <= self.high + h
        if self.kind == "outside":
            return x < self.low + h or x > self.high - h
        raise AssertionError(self.kind)

    def side(self, x: float, previous: int) -> int:
        """`crosses`: +1 above the band, -1 below it, unchanged inside it."""
        if x > self.threshold + self.hysteresis:
            return 1
        if x < self.threshold - self.hysteresis:
            return -1
        if previous == 0:
            return 1 if x > self.threshold else -1
        return previous


def trigger_for(rule: Rule) -> Trigger:
    s = rule.spec
    kind = {
        "crosses_above": "above",
        "crosses_below": "below",
        "crosses": "crosses",
        "above": "above",
        "below": "below",
        "between": "between",
        "outside": "outside",
        "change_above": "above",
        "change_below": "below",
    }[s.condition]
    return Trigger(
        kind=kind,
        threshold=math.nan if s.threshold is None else float(s.threshold),
        low=math.nan if s.low is None else float(s.low),
        high=math.nan if s.high is None else float(s.high),
        hysteresis=float(s.hysteresis),
        crossing=s.condition in CROSSING,
        need=max(1, s.for_days),
        cooldown=s.cooldown_days,
    )


def step(trigger: Trigger, st: RuleState, day: dt.date, x: float) -> Transition:
    """Advance one observation. Pure: same inputs, same output."""
    if st.last_day is not None and day <= st.last_day:
        return Transition(st)
    since = None if st.since_fired is None else st.since_fired + 1
    if trigger.kind == "crosses":
        return _step_crosses(trigger, st, day, x, since)
    first = st.active is None
    if trigger.kind == "outside" and st.active and st.side:  # (side 0: a state saved before sides were kept)
        # Outside is two bands: the hysteresis applies to the side it left on (st.side); a jump
        # straight across the range to the other side is still outside.
        h = trigger.hysteresis
        if st.side < 0:
            active = x < trigger.low + h or x > trigger.high
        else:
            active = x > trigger.high - h or x < trigger.low
    else:
        # The hysteresis band keeps a *firing* rule firing; a pending one must meet the strict test every day,
        # as Prometheus' ``for`` needs the condition itself, not its release band, for the whole duration.
        holding = st.active and st.state is State.FIRING
        active = trigger.stay(x) if holding else trigger.enter(x)
    side = (-1 if x < (trigger.low + trigger.high) / 2 else 1) if trigger.kind == "outside" and active else 0
    base: dict[str, Any] = dict(last_day=day, last_value=x, active=active, since_fired=since, side=side)
    if not active:
        if st.state is State.FIRING:
            return Transition(
                RuleState(**base, resolved_at=day, fired_at=st.fired_at),
                resolved=st.notified,
            )
        return Transition(RuleState(**base, resolved_at=st.resolved_at, fired_at=st.fired_at))
    streak = st.streak + 1
    seeded = (first and trigger.crossing) or (st.seeded and st.streak > 0)
    active_at = day if streak == 1 else st.active_at
    common: dict[str, Any] = dict(base, streak=streak, seeded=seeded, active_at=active_at, resolved_at=st.resolved_at)
    if st.state is State.FIRING:
        return Transition(RuleState(**common, state=State.FIRING, notified=st.notified, fired_at=st.fired_at))
    if streak < trigger.need:
        return Transition(RuleState(**common, state=State.PENDING, fired_at=st.fired_at))
    cooled = since is not None and since < trigger.cooldown
    if seeded or cooled:
        return Transition(
            RuleState(**common, state=State.FIRING, notified=False, fired_at=st.fired_at),
            extra={"suppressed": "cooldown" if cooled and not seeded else "no crossing seen"},
        )
    common["since_fired"] = 0
    return Transition(
        RuleState(**common, state=State.FIRING, notified=True, fired_at=day),
        fired=True,
        direction="above" if trigger.kind in ("above", "outside") else "below",
    )


def _step_crosses(trigger: Trigger, st: RuleState, day: dt.date, x: float, since: int | None) -> Transition:
    observed = trigger.side(x, st.observed)
    base: dict[str, Any] = dict(last_day=day, last_value=x, observed=observed, since_fired=since)
    keep: dict[str, Any] = dict(fired_at=st.fired_at, resolved_at=st.resolved_at, notified=st.notified)
    if st.side == 0:
        return Transition(RuleState(**base, **keep, side=observed, active=observed > 0))
    if observed == st.side:
        state = State.FIRING if st.notified else State.INACTIVE
        return Transition(RuleState(**base, **keep, side=st.side, active=st.side > 0, state=state))
    streak = st.streak + 1 if st.observed == observed else 1
    active_at = day if streak == 1 else st.active_at
    if streak < trigger.need:
        return Transition(
            RuleState(
                **base,
                **keep,
                side=st.side,
                active=st.side > 0,
                streak=streak,
                active_at=active_at,
                state=State.PENDING,
            )
        )
    cooled = since is not None and since < trigger.cooldown
    direction = "above" if observed > 0 else "below"
    if cooled:
        return Transition(
            RuleState(
                **base,
                **keep,
                side=observed,
                active=observed > 0,
                active_at=active_at,
                state=State.FIRING if st.notified else State.INACTIVE,
            ),
            extra={"suppressed": "cooldown"},
        )
    base["since_fired"] = 0
    return Transition(
        RuleState(
            **base,
            side=observed,
            active=observed > 0,
            active_at=active_at,
            state=State.FIRING,
            notified=True,
            fired_at=day,
            resolved_at=st.resolved_at,
        ),
        fired=True,
        direction=direction,
    )
