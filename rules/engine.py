"""Evaluate rules over daily data: ``evaluate`` for the daily job, ``replay`` for history.

Both walk the same ``state.step`` over a metric computed once, vectorised, for the whole span
(the walk is a tight loop over floats: about 0.1 s per rule for 25 years);
``evaluate`` is simply a replay whose alerts before the rule's last evaluated day are already
known. So the daily job, a catch-up after downtime and a 25-year replay give the same alerts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from rules.alert import Alert
from rules.data import MarketData
from rules.errors import DataError, RuleError
from rules.metrics import MetricSeries, compute_metric
from rules.model import Rule
from rules.state import RuleState, State, Trigger, step, trigger_for
from rules.templates import render


@dataclass(frozen=True)
class RuleResult:
    """A rule's standing after evaluation: its latest value and state, or why it failed."""

    rule: Rule
    state: RuleState
    value: float | None = None
    date: dt.date | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Evaluation:
    alerts: list[Alert]
    results: list[RuleResult]

    @property
    def states(self) -> dict[str, RuleState]:
        return {r.rule.name: r.state for r in self.results}


def condition_series(rule: Rule, metric: MetricSeries) -> pd.Series:
    """The series the condition compares: the metric, or its change over ``days`` for change_*."""
    if rule.spec.condition in ("change_above", "change_below"):
        days = rule.spec.days or 1
        return (metric.values - metric.values.shift(days)).dropna()
    return metric.values


def _details_at(metric: MetricSeries, ts: pd.Timestamp) -> dict[str, Any]:
    if metric.details is None or ts not in metric.details.index:
        return {}
    row = metric.details.loc[ts]
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, float) and math.isnan(v):
            continue
        out[str(k)] = v.item() if hasattr(v, "item") else v
    if "change" in out and "benchmark_change" in out:
        out["symbol_change"] = out.pop("change")
    return out


def direction(trig: Trigger, x: float, fired: bool, side: str = "") -> str:
    """Where the value went, in words: "above"/"below" a line, "inside" a range (for {direction})."""
    if trig.kind == "crosses":
        return side
    if trig.kind in ("between", "outside"):
        if trig.low <= x <= trig.high:
            return "inside"
        return "above" if x > trig.high else "below"
    toward = "above" if trig.kind == "above" else "below"
    if fired:
        return toward
    return "below" if toward == "above" else "above"


def run_rule(
    rule: Rule,
    metric: MetricSeries,
    state: RuleState,
    until: dt.date,
    emit_from: dt.date | None = None,
) -> tuple[list[Alert], RuleState]:
    """Step a rule over every observation after ``state.last_day`` up to ``until``.

    Alerts dated before ``emit_from`` are not returned (a new rule warms up on history silently).
    """
    trig = trigger_for(rule)
    cond = condition_series(rule, metric)
    values = metric.values
    start = state.last_day
    idx = cond.index
    lo = 0 if start is None else int(idx.searchsorted(pd.Timestamp(start), side="right"))
    hi = int(idx.searchsorted(pd.Timestamp(until), side="right"))
    if hi <= lo:
        return [], state
    alerts: list[Alert] = []
    days = idx[lo:hi]
    xs = cond.to_numpy(dtype=float)[lo:hi]
    metric_name = rule.describe_metric()
    events = rule.metric.events
    dates = pd.DatetimeIndex(days).date  # one conversion, not a Timestamp → date per step
    for i, (day, x) in enumerate(zip(dates, xs, strict=True)):
        live = emit_from is None or day >= emit_from
        if live and state.warm and state.state is State.FIRING and not trig.crossing:
            # A level rule that already holds when it goes live fires now, as Prometheus would.
            # active=False: judged by the strict entry test today, not by the hysteresis band.
            state = replace(state, state=State.PENDING, streak=trig.need - 1, warm=False, active=False)
        if events and state.state is not State.INACTIVE:
            # Events (CPI releases) are judged one by one: last month's miss does not hold this month's.
            state = replace(
                state, state=State.INACTIVE, active=False, streak=0, seeded=False, notified=False, warm=False
            )
        tr = step(trig, state, day, float(x))
        prev_state = state
        state = tr.state
        if prev_state.warm and state.state is State.FIRING and not tr.fired:
            state = state.but(warm=True)  # the same warm episode goes on
        if not live:
            if tr.fired:
                # Warm-up: nobody was told, so nothing to resolve later and no cooldown to serve.
                since = None if prev_state.since_fired is None else prev_state.since_fired + 1
                state = replace(state, notified=False, since_fired=since, fired_at=prev_state.fired_at, warm=True)
            continue
        if not (tr.fired or (tr.resolved and rule.resolve_template())):
            continue
        ts = days[i]
        value = float(values.loc[ts])
        pos = values.index.get_loc(ts)
        back = (rule.spec.days or 1) if rule.spec.condition.startswith("change_") else 1
        previous = float(values.iloc[pos - back]) if isinstance(pos, int) and pos >= back else None
        ctx: dict[str, Any] = {
            "value": value,
            "previous": previous if previous is not None else math.nan,
            "change": float(x)
            if rule.spec.condition.startswith("change_")
            else (value - previous if previous is not None else math.nan),
            "threshold": rule.spec.threshold if rule.spec.threshold is not None else math.nan,
            "low": rule.spec.low if rule.spec.low is not None else math.nan,
            "high": rule.spec.high if rule.spec.high is not None else math.nan,
            "hysteresis": rule.spec.hysteresis,
            "days": rule.spec.days or 1,
            "date": day,
            "rule": rule.name,
            "metric": metric_name,
            "direction": direction(trig, float(x), fired=tr.fired, side=tr.direction),
            "severity": rule.spec.severity,
            "unit": metric.unit,
            "condition": rule.spec.condition,
        }
        details = _details_at(metric, ts)
        ctx.update(details)
        if tr.fired:
            kind, template = "firing", rule.template()
        else:
            kind, template = "resolved", rule.resolve_template() or ""
        message, problem = render(template, ctx)
        alerts.append(
            Alert(
                rule=rule.name,
                date=day,
                value=value,
                message=message,
                kind=kind,
                direction=ctx["direction"],
                severity=rule.spec.severity,
                metric=rule.spec.metric,
                threshold=rule.spec.threshold,
                previous=previous,
                chats=tuple(rule.spec.chats) if rule.spec.chats is not None else None,
                details=details,
                problem=problem,
            )
        )
    return alerts, state


def compute(rule: Rule, data: MarketData) -> MetricSeries:
    """The rule's metric over all the data (raises DataError when inputs are missing)."""
    return compute_metric(rule.spec.metric, data, rule.params)


def _latest(rule: Rule, metric: MetricSeries, as_of: dt.date) -> tuple[float | None, dt.date | None, dict[str, Any]]:
    values = metric.values.loc[: pd.Timestamp(as_of)]
    if values.empty:
        return None, None, {}
    ts = values.index[-1]
    return float(values.iloc[-1]), ts.date(), _details_at(metric, ts)


def evaluate(
    rules: Sequence[Rule],
    data: MarketData,
    states: Mapping[str, RuleState],
    as_of: dt.date,
    metrics: Mapping[str, MetricSeries] | None = None,
) -> Evaluation:
    """The daily job: advance every enabled rule to ``as_of``.

    A rule seen for the first time warms up silently on history and may alert only for
    ``as_of`` itself; a rule that missed days (downtime) alerts for each missed day. A rule whose
    data is missing reports an error and the others carry on.
    """
    alerts: list[Alert] = []
    results: list[RuleResult] = []
    for rule in rules:
        state = states.get(rule.name, RuleState())
        if not rule.spec.enabled:
            results.append(RuleResult(rule, state, error="disabled"))
            continue
        try:
            metric = metrics[rule.name] if metrics and rule.name in metrics else compute(rule, data)
        except RuleError as exc:
            results.append(RuleResult(rule, state, error=str(exc)))
            continue
        emit_from = as_of if state.last_day is None else None
        fired, new_state = run_rule(rule, metric, state, as_of, emit_from=emit_from)
        alerts.extend(fired)
        value, date, details = _latest(rule, metric, as_of)
        results.append(RuleResult(rule, new_state, value, date, details))
    return Evaluation(alerts, results)


@dataclass(frozen=True)
class Replay:
    alerts: list[Alert]
    counts: dict[str, int]  # firings per rule
    errors: dict[str, str]
    first: dict[str, dt.date] = field(default_factory=dict)  # the first day each rule could run (its metric exists)


def replay(
    rules: Sequence[Rule],
    data: MarketData,
    start: dt.date,
    end: dt.date,
) -> Replay:
    """Every alert the rules would have sent from ``start`` to ``end``, as the daily job would.

    History before ``start`` warms each rule up (so a crossing needs a real crossing), exactly
    like a rule added to a running bot on ``start``'s eve.
    """
    alerts: list[Alert] = []
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    first: dict[str, dt.date] = {}
    metrics: dict[tuple[str, object], MetricSeries] = {}  # a sweep varies the condition, not the metric
    for rule in rules:
        if not rule.spec.enabled:
            continue
        try:
            key = (rule.spec.metric, rule.params)
            metric = metrics[key] if key in metrics else metrics.setdefault(key, compute(rule, data))
        except DataError as exc:
            errors[rule.name] = str(exc)
            counts[rule.name] = 0
            continue
        fired, _ = run_rule(rule, metric, RuleState(), end, emit_from=start)
        alerts.extend(fired)
        counts[rule.name] = sum(1 for a in fired if a.kind == "firing")
        days = metric.values.index[metric.values.index >= pd.Timestamp(start)]
        if len(days):
            first[rule.name] = days[0].date()
    alerts.sort(key=lambda a: (a.date, a.rule, a.kind))
    return Replay(alerts, counts, errors, first)


__all__ = ["Alert", "Evaluation", "Replay", "RuleResult", "State", "evaluate", "replay", "run_rule"]
