"""The daily digest, computed: every metric, how far each rule is from firing, and what is stale.

Alerts only speak when a line is crossed; the digest answers "how close are we?" once a day (and
on ``/digest``). It evaluates nothing itself: it is a projection of one evaluation (a ``Reading``),
the daily check's or, for ``/digest``, one that records nothing (bot/jobs/check.py), so the digest
never disagrees with what the check alerted and never changes it. The evening job computes one
``Digest`` for every rule and projects it on each chat's route (``Digest.project``); render.digest
turns it into text. Short lines, for a phone; when many rules make it longer than a Telegram message,
the daily job queues it in parts (``render.split_message``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from bot.answers.views import SPANS, changes
from bot.config import Config
from bot.market import expected_close_on, stale_symbols
from bot.store import Store
from rules import Alert, MetricSeries, Rule, RuleState, State, condition_series


@dataclass(frozen=True)
class Reading:
    """What one evaluation of the rules up to ``as_of`` computed: the digest is built from it, never re-evaluated."""

    as_of: dt.date
    metrics: Mapping[str, MetricSeries]  # by rule: the metric its condition was judged on
    states: Mapping[str, RuleState]  # the rules evaluated: their state after ``as_of``
    errors: Mapping[str, str]  # the rules the data could not answer, and why
    alerts: Sequence[Alert]  # every alert the evaluation made, recorded or not


@dataclass(frozen=True)
class MetricLine:
    """One metric's latest value and its change over a day and a week of observations."""

    label: str
    unit: str
    value: float
    date: dt.date
    day: float | None
    week: float | None


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def metric_line(label: str, metric: MetricSeries, as_of: dt.date) -> MetricLine | None:
    values = metric.values.loc[: pd.Timestamp(as_of)]
    if values.empty:
        return None
    last = float(values.iloc[-1])

    def back(n: int) -> float | None:
        return last - float(values.iloc[-1 - n]) if len(values) > n else None

    week = changes(values, SPANS[:1])  # the calendar week /ratio shows too, not five observations
    return MetricLine(label, metric.unit, last, values.index[-1].date(), back(1), week[0].change if week else None)


def distance_text(rule: Rule, metric: MetricSeries, as_of: dt.date) -> str | None:
    """How far the rule's condition value is from its line: "0.002 below 0.4"."""
    cond = condition_series(rule, metric).loc[: pd.Timestamp(as_of)]
    if cond.empty:
        return None
    x = float(cond.iloc[-1])
    s = rule.spec
    prefix = f"change over {s.days} days {x:+.3g}: ".replace("-", "−") if s.condition.startswith("change_") else ""
    # A percentage (breadth) or a points figure (CPI surprise) is off its line by points.
    gap_unit = " pt" if metric.unit in ("%", "pt") and not prefix else ""
    level_unit = {"%": "%", "pt": " pt"}.get(metric.unit, "") if not prefix else ""

    def gap(d: float, line: float) -> str:
        return f"{_num(abs(d))}{gap_unit} {'above' if d > 0 else 'below'} {line:g}{level_unit}"

    lines = rule.lines
    if len(lines) == 2:
        low, high = lines
        if x < low or x > high:
            return prefix + (gap(x - low, low) if x < low else gap(x - high, high))
        inside = f"{gap(x - low, low)}, {gap(x - high, high)}"
        return f"{prefix}inside {low:g}–{high:g}{level_unit} ({inside})"
    if not lines:
        return None
    (line,) = lines
    d = x - line
    if d == 0:
        return f"{prefix}at {line:g}{level_unit}"
    return prefix + gap(d, line)


def _state_tag(state: RuleState, rule: Rule) -> str:
    if state.state is State.PENDING:
        return f"pending {state.streak} of {max(1, rule.spec.for_days)} days"
    return state.state.value


@dataclass(frozen=True)
class RuleLine:
    name: str
    distance: str  # how far its condition value is from its line ("n/a" when it has none)
    state: str  # "inactive", "pending 3 of 5 days", …


@dataclass(frozen=True)
class MetricBlock:
    """Rules sharing one metric (above/below the same ratio), under one line of it."""

    label: str
    line: MetricLine | None  # None: no value on or before the day
    events: bool  # a CPI surprise: compared with the previous release, not a day and a week
    counted: int | None  # breadth: members counted and excluded on the line's day
    excluded: int | None
    rules: tuple[RuleLine, ...]
    stale: str | None  # why the line is stale or missing (shown with the warnings)


@dataclass(frozen=True)
class TodayAlert:
    rule: str
    message: str
    sent: bool  # recorded by a check (False: the evaluation found it, no check has recorded it yet)


@dataclass(frozen=True)
class Note:
    """A warning, and the rules it concerns (None: every chat's digest carries it)."""

    text: str
    rules: frozenset[str] | None = None


@dataclass(frozen=True)
class Digest:
    """The digest of one day for the rules in ``rules`` (config order); ``only`` is the chat's route."""

    as_of: dt.date | None  # None: no rule to evaluate
    only: tuple[str, ...] | None
    rules: tuple[str, ...]
    blocks: tuple[MetricBlock, ...]
    pending: tuple[str, ...]
    alerts: tuple[TodayAlert, ...]
    errors: tuple[Note, ...]  # rules the data could not answer
    warnings: tuple[Note, ...]  # stale symbols, an old latest close, failing sources (blocks carry their own)

    def project(self, only: Collection[str] | None) -> Digest:
        """This digest as a chat subscribed to ``only`` (None: every rule) gets it: the same as one computed for
        those rules alone. Blocks keep the order of their first rule the chat follows."""
        if only is None:
            return replace(self, only=None)
        keep = set(only)
        rules = tuple(r for r in self.rules if r in keep)
        place = {name: i for i, name in enumerate(rules)}
        blocks = []
        for b in self.blocks:
            lines = tuple(r for r in b.rules if r.name in keep)
            if lines:
                blocks.append(replace(b, rules=lines))
        blocks.sort(key=lambda b: place[b.rules[0].name])
        return Digest(
            self.as_of,
            tuple(only),
            rules,
            tuple(blocks),
            tuple(r for r in self.pending if r in keep),
            tuple(a for a in self.alerts if a.rule in keep),
            tuple(n for n in self.errors if n.rules is None or n.rules & keep),
            tuple(n for n in self.warnings if n.rules is None or n.rules & keep),
        )


def _block(members: Sequence[Rule], reading: Reading) -> MetricBlock:
    first, as_of = members[0], reading.as_of
    metric = reading.metrics[first.name]
    label = first.describe_metric()
    lines = tuple(
        RuleLine(
            r.name, distance_text(r, metric, as_of) or "n/a", _state_tag(reading.states.get(r.name, RuleState()), r)
        )
        for r in members
    )
    line = metric_line(label, metric, as_of)
    if line is None:
        return MetricBlock(
            label, None, first.metric.events, None, None, lines, f"{label}: no value on or before {as_of}"
        )
    counted = excluded = None
    if metric.details is not None and "counted" in metric.details.columns:
        c = metric.details["counted"].get(pd.Timestamp(line.date))
        x = metric.details["excluded"].get(pd.Timestamp(line.date))
        if c is not None and x is not None:
            counted, excluded = int(c), int(x)
    stale = f"{label}: latest value is from {line.date}" if line.date < as_of and not first.metric.events else None
    return MetricBlock(label, line, first.metric.events, counted, excluded, lines, stale)


def _stale(store: Store, config: Config, rules: Sequence[Rule], as_of: dt.date, today: dt.date | None) -> list[Note]:
    users: dict[str, set[str]] = {}
    for r in rules:
        for symbol in r.symbols:
            users.setdefault(symbol, set()).add(r.name)
    out = [
        Note(f"{symbol}: last close {last}" if last else f"{symbol}: no prices stored", frozenset(users[symbol]))
        for symbol, last in stale_symbols(store, users, as_of).items()
    ]
    expected = expected_close_on(today, config) if today is not None else None
    if today is not None and expected is not None and as_of < expected:
        out.append(Note(f"latest close in the store is {as_of} ({(today - as_of).days} days ago)"))
    for row in store.source_status():
        if row.get("last_error"):
            out.append(Note(f"source {row['source']}: {row['last_error']}"))
    return out


def build_digest(
    store: Store,
    config: Config,
    reading: Reading | None,
    only: Collection[str] | None = None,
    today: dt.date | None = None,
) -> Digest:
    """The digest of ``reading`` for the enabled rules in ``only`` (None: every rule), with the day's alerts
    from the store and what is stale. ``today`` (when given) adds a warning if the day is more than a long
    weekend old. ``reading`` may be None only when no rule is enabled for ``only``."""
    rules = [r for r in config.rules if r.spec.enabled and (only is None or r.name in only)]
    scope = None if only is None else tuple(only)
    if not rules or reading is None:
        return Digest(None, scope, (), (), (), (), (), ())
    as_of = reading.as_of
    # Rules sharing one metric (above/below the same ratio) sit under one metric line.
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.name in reading.metrics:
            groups.setdefault(rule.spec.metric + rule.params.model_dump_json(), []).append(rule)
    blocks = tuple(_block(members, reading) for members in groups.values())
    names = {r.name for r in rules}
    pending = tuple(r.name for r in rules if reading.states.get(r.name, RuleState()).state is State.PENDING)
    todays = [
        TodayAlert(str(a["rule"]), str(a["message"]), True)
        for a in store.alerts_on(as_of)
        if only is None or a["rule"] in only  # every alert of the day, a rule since disabled or removed too
    ]
    todays += [
        TodayAlert(a.rule, a.message, False)
        for a in reading.alerts
        if a.date == as_of and a.rule in names and not store.alert_exists(a.key)
    ]
    errors = [
        Note(f"rule {r.name}: {reading.errors[r.name]}", frozenset({r.name})) for r in rules if r.name in reading.errors
    ]
    warnings = tuple(_stale(store, config, rules, as_of, today))
    return Digest(as_of, scope, tuple(r.name for r in rules), blocks, pending, tuple(todays), tuple(errors), warnings)
