"""The daily digest: every metric, how far each rule is from firing, and what is stale.

Alerts only speak when a line is crossed; the digest answers "how close are we?" once a day (and
on ``/digest``). It evaluates the rules from the stored states without saving anything, so asking
for a digest never changes what the daily check will alert. Short lines, for a phone; when many rules
make it longer than a Telegram message, the daily job queues it in parts (``render.split_message``).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd

from bot.answers.views import SPANS, changes
from bot.config import Config
from bot.market import default_as_of, expected_close_on, load_market_data, rules_start, stale_symbols
from bot.store import Store
from bot.values import short
from rules import Alert, MetricSeries, Rule, RuleError, RuleState, State, compute, condition_series, evaluate


@dataclass(frozen=True)
class MetricLine:
    """One metric's latest value and its change over a day and a week of observations."""

    label: str
    unit: str
    value: float
    date: dt.date
    day: float | None
    week: float | None


def _fmt(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f}%".replace("-", "−")
    if unit == "pt":
        return f"{v:+.2f} pt".replace("-", "−")
    return short(v)


def _fmt_change(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("%", "pt"):
        return f"{v:+.1f} pt".replace("-", "−") if round(v, 1) else "0.0 pt"
    return f"{v:+.3g}".replace("-", "−") if v else "0"


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


def _stale(store: Store, config: Config, rules: Sequence[Rule], as_of: dt.date, today: dt.date | None) -> list[str]:
    symbols = set().union(*(r.symbols for r in rules))
    out = [
        f"{symbol}: last close {last}" if last else f"{symbol}: no prices stored"
        for symbol, last in stale_symbols(store, symbols, as_of).items()
    ]
    expected = expected_close_on(today, config) if today is not None else None
    if today is not None and expected is not None and as_of < expected:
        out.append(f"latest close in the store is {as_of} ({(today - as_of).days} days ago)")
    for row in store.source_status():
        if row.get("last_error"):
            out.append(f"source {row['source']}: {row['last_error']}")
    return out


def digest_text(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    only: Collection[str] | None = None,
) -> str:
    """The digest as HTML, one closed line after another (the console strips the tags).

    ``as_of`` defaults to the latest stored close; then the digest also warns when that close is
    more than a long weekend older than ``today`` (default: the date now). ``only`` is the rules a chat
    subscribed to (None: every rule); the digest names them, so a chat sees what it will be alerted about.
    """
    e = html.escape
    scope = "For this chat: all rules" if only is None else f"For this chat: rules {e(', '.join(only)) or 'none'}"
    rules = [r for r in config.rules if r.spec.enabled and (only is None or r.name in only)]
    if not rules:
        why = "No rules are enabled." if only is None else "No enabled rule reaches this chat (/subscriptions)."
        return f"<b>Daily digest</b>\n{scope}\n{why}"
    if as_of is None:
        as_of = default_as_of(store, rules)
        today = today or dt.date.today()
    data = load_market_data(store, config, rules, end=as_of, start=rules_start(rules, as_of, warm_up=True))

    stored = store.load_states()
    states = {
        r.name: st if st.last_day is None or st.last_day <= as_of else RuleState()
        for r in rules
        for st in [stored.get(r.name, RuleState())]
    }
    metrics: dict[str, MetricSeries] = {}
    errors: dict[str, str] = {}
    for rule in rules:
        try:
            metrics[rule.name] = compute(rule, data)
        except RuleError as exc:
            errors[rule.name] = str(exc)
    evaluation = evaluate([r for r in rules if r.name in metrics], data, states, as_of, metrics=metrics)
    new_states = evaluation.states

    lines = [f"<b>Daily digest — {as_of}</b>", scope]
    # Rules sharing one metric (above/below the same ratio) sit under one metric line.
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.name in metrics:
            key = rule.spec.metric + rule.params.model_dump_json()
            groups.setdefault(key, []).append(rule)
    stale: list[str] = []
    for members in groups.values():
        first = members[0]
        metric = metrics[first.name]
        line = metric_line(first.describe_metric(), metric, as_of)
        if line is None:
            stale.append(f"{first.describe_metric()}: no value on or before {as_of}")
            continue
        when = "" if line.date == as_of else f" on {line.date}"
        if metric.details is not None and "counted" in metric.details.columns:
            counted = metric.details["counted"].get(pd.Timestamp(line.date))
            excluded = metric.details["excluded"].get(pd.Timestamp(line.date))
            if counted is not None and excluded is not None:
                when += f" ({int(counted)} counted, {int(excluded)} excluded)"
        lines.append("")
        if first.metric.events:  # a CPI surprise is monthly: compare with the previous release, not a day
            moves = f"  previous release {e(_fmt_change(line.day, line.unit))}"
        else:
            moves = f"  day {e(_fmt_change(line.day, line.unit))}, week {e(_fmt_change(line.week, line.unit))}"
        lines.append(f"<b>{e(line.label)}</b>: {e(_fmt(line.value, line.unit))}{e(when)}\n{moves}")
        if line.date < as_of and not first.metric.events:
            stale.append(f"{first.describe_metric()}: latest value is from {line.date}")
        for rule in members:
            dist = distance_text(rule, metric, as_of) or "n/a"
            tag = _state_tag(new_states.get(rule.name, RuleState()), rule)
            lines.append(f"  • {e(rule.name)}: {e(dist)} ({e(tag)})")

    pending = [r.name for r in rules if new_states.get(r.name, RuleState()).state is State.PENDING]
    lines += ["", f"<b>Pending:</b> {e(', '.join(pending)) if pending else 'none'}"]

    todays = [a for a in store.alerts_on(as_of) if only is None or a["rule"] in only]
    seen = {f"{a['rule']}|{a['date']}|{a['kind']}" for a in todays}
    unrecorded: list[Alert] = [a for a in evaluation.alerts if a.date == as_of and a.key not in seen]
    alert_lines = [f"  • {e(str(a['rule']))}: {e(str(a['message']))}" for a in todays]
    alert_lines += [f"  • {e(a.rule)}: {e(a.message)} (not yet sent)" for a in unrecorded]
    lines.append(f"<b>Alerts today:</b> {len(alert_lines) if alert_lines else 'none'}")
    lines += alert_lines

    warnings = [f"rule {name}: {why}" for name, why in errors.items()]
    warnings += stale + _stale(store, config, rules, as_of, today)
    if warnings:
        lines.append("<b>⚠ Stale or missing data:</b>")
        lines += [f"  • {e(w)}" for w in dict.fromkeys(warnings)]
    return "\n".join(lines)
