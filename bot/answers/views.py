"""What the bot's commands show, computed from the store and config: plain dataclasses, no markup.

Telegram and the console both call these (and render.py renders them), so an answer is
computed one way whatever the transport. Nothing here touches the network; a question the store
cannot answer raises ``StoreError`` with a sentence saying what to run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bot.answers.noise import noise_texts
from bot.answers.status import RATIO_PAIR
from bot.config import Config
from bot.errors import FETCH_CPI, FETCH_FIRST, StoreError
from bot.market import YEAR_BACK, cpi_summary, load_market_data, load_start, track_records, universe_members
from bot.store import Store
from bot.values import as_float
from rules import (
    BreadthParams,
    DataError,
    MarketData,
    RatioParams,
    Rule,
    RuleState,
    breadth_frame,
    cpi_surprise,
    load_rules,
    ratio_series,
    state_reason,
    usable_breadth,
)

# Calendar spans of the changes shown; the value "then" is the last close on or before that day.
SPANS: tuple[tuple[str, pd.DateOffset], ...] = (
    ("1 week", pd.DateOffset(weeks=1)),
    ("1 month", pd.DateOffset(months=1)),
    ("1 year", pd.DateOffset(years=1)),
)


@dataclass(frozen=True)
class Change:
    label: str
    since: dt.date
    then: float
    change: float  # value now minus value then
    pct: float  # relative change, in percent


@dataclass(frozen=True)
class Distance:
    """How far the latest value is from a rule's line (positive: above it)."""

    rule: str
    condition: str
    line: float
    distance: float
    pct: float
    state: str


@dataclass(frozen=True)
class RatioView:
    numerator: str
    denominator: str
    date: dt.date
    value: float
    changes: list[Change]
    distances: list[Distance]


@dataclass(frozen=True)
class BreadthView:
    universe: str
    window: int
    date: dt.date
    value: float
    above: int
    counted: int
    excluded: int
    changes: list[Change]
    distances: list[Distance]
    rule: str | None = None


@dataclass(frozen=True)
class CpiMeasure:
    measure: str
    actual: float | None  # as first published: what the surprise is measured on
    expected: float | None
    naive_expected: float | None = None  # prior three-month average, shown when there is no consensus
    current: float | None = None  # today's revised figure, when it differs from the first release

    @property
    def surprise(self) -> float | None:
        if self.actual is None or self.expected is None:
            return None
        return cpi_surprise(self.actual, self.expected)


@dataclass(frozen=True)
class CpiView:
    month: str
    release_date: dt.date
    measures: list[CpiMeasure]
    next_release: dt.date | None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RuleLine:
    name: str
    metric: str
    condition: str
    enabled: bool
    state: str
    last_day: dt.date | None
    last_value: float | None
    fired_at: dt.date | None
    noise: str | None = None  # how often it fired over the stored history
    reason: str = ""  # the state with why it holds ("firing since …, held by the hysteresis band until …")


@dataclass(frozen=True)
class AlertLine:
    rule: str
    date: str
    kind: str
    value: float | None
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


def _as_date(ts: Any) -> dt.date:
    return pd.Timestamp(ts).date()


def changes(series: pd.Series, spans: Sequence[tuple[str, pd.DateOffset]] = SPANS) -> list[Change]:
    """The series' change over each calendar span, measured from the last value on or before its start."""
    if series.empty:
        return []
    last_ts = pd.Timestamp(series.index[-1])
    now = float(series.iloc[-1])
    out = []
    for label, offset in spans:
        before = series.loc[: last_ts - offset]
        if before.empty:
            continue
        then = float(before.iloc[-1])
        pct = (now / then - 1.0) * 100.0 if then else math.nan
        out.append(Change(label, _as_date(before.index[-1]), then, now - then, pct))
    return out


def distances(rule: Rule, value: float, state: RuleState | None) -> list[Distance]:
    """Distance from ``value`` to each line of a level rule (threshold, or low and high)."""
    if not rule.on_level:
        return []  # change_* rules compare a change, not the level
    lines = rule.lines
    saved = state or RuleState()
    # The stored state is the last check's, which may be older than the value shown: say which day.
    st = f"{saved.state.value} as of {saved.last_day}" if saved.last_day else "not checked yet"
    return [
        Distance(
            rule.name, rule.describe_condition(), line, value - line, (value / line - 1) * 100 if line else math.nan, st
        )
        for line in lines
    ]


def ratio_view(store: Store, config: Config, pair: tuple[str, str] = RATIO_PAIR) -> RatioView:
    """The ratio today, its changes over a week/month/year, and the distance to each rule on this pair."""
    num, den = pair
    last = store.last_dates([num, den])
    missing = [s for s in (num, den) if s not in last]
    if missing:
        raise StoreError(f"no prices stored for {' and '.join(missing)} yet: {FETCH_FIRST}")
    # The ratio exists up to the earlier of the two last closes; load a year and a bit before that.
    start = load_start(min(last.values()), 0, YEAR_BACK)
    close, adj = store.load_prices([num, den], start=start)
    try:
        series = ratio_series(MarketData(close=close, adj_close=adj), num, den, "close").dropna()
    except DataError as exc:
        raise StoreError(f"cannot compute {num}/{den}: {exc}") from None
    if series.empty:
        raise StoreError(f"{num} and {den} have no day in common yet: {FETCH_FIRST}")
    value = float(series.iloc[-1])
    states = store.load_states()
    dists: list[Distance] = []
    for rule in config.rules:
        p = rule.params
        if rule.spec.metric == "ratio" and isinstance(p, RatioParams) and (p.numerator, p.denominator) == pair:
            dists.extend(distances(rule, value, states.get(rule.name)))
    return RatioView(num, den, _as_date(series.index[-1]), value, changes(series), dists)


def _breadth_rules(config: Config) -> list[Rule]:
    found = [r for r in config.rules if r.spec.metric == "breadth" and r.spec.enabled]
    if found:
        return found
    return load_rules([{"name": "breadth", "metric": "breadth", "condition": "above", "threshold": 50}])


def breadth_views(store: Store, config: Config) -> list[BreadthView]:
    """Breadth for each breadth rule's universe and window (or S&P 500 over 200 days when none is set)."""
    rules = _breadth_rules(config)
    configured = any(r.spec.metric == "breadth" for r in config.rules)
    if store.count_prices() == 0:
        raise StoreError(f"the store holds no prices yet: {FETCH_FIRST}")
    states = store.load_states()
    seen: dict[tuple[str, int, str, str], pd.DataFrame] = {}
    out = []
    for rule in rules:
        p = rule.params
        assert isinstance(p, BreadthParams)
        key = (p.universe, p.window, p.basis, p.membership)
        if key not in seen:
            latest = store.latest_date(universe_members(store, config, p.universe))
            if latest is None:
                raise StoreError(f"no prices stored for the members of {p.universe}: {FETCH_FIRST}")
            start = load_start(latest, p.window, YEAR_BACK)  # the window, plus a year for the 1-year change
            data = load_market_data(store, config, [rule], start=start, end=latest)
            try:
                frame = breadth_frame(data, p)
            except DataError as exc:
                raise StoreError(str(exc)) from None
            seen[key] = usable_breadth(frame).dropna(subset=["value"])
        frame = seen[key]
        if frame.empty:
            raise StoreError(f"not enough history for {p.window}-day breadth of {p.universe}: fetch more prices")
        last = frame.iloc[-1]
        value = float(last["value"])
        out.append(
            BreadthView(
                universe=p.universe,
                window=p.window,
                date=_as_date(frame.index[-1]),
                value=value,
                above=int(last["above"]),
                counted=int(last["counted"]),
                excluded=int(last["excluded"]),
                changes=changes(frame["value"]),
                distances=distances(rule, value, states.get(rule.name)) if configured else [],
                rule=rule.name if configured else None,
            )
        )
    return out


def cpi_view(store: Store, config: Config, today: dt.date | None = None) -> CpiView:
    """The latest CPI release with actual (first published) vs consensus per measure, and the next release day."""
    summary = cpi_summary(store, config, today)
    latest = summary["latest"]
    if latest is None:
        raise StoreError("; ".join(summary["notes"]) or f"no CPI releases stored yet: {FETCH_CPI}")
    measures = [
        CpiMeasure(m, v["actual"], v["expected"], v["naive_expected"], v["current"])
        for m, v in summary["measures"].items()
    ]
    nxt = summary["next_release"]
    return CpiView(
        latest["month"],
        dt.date.fromisoformat(latest["release_date"]),
        measures,
        dt.date.fromisoformat(nxt["date"]) if nxt else None,
        summary["notes"],
    )


def rule_lines(store: Store, config: Config) -> list[RuleLine]:
    states = store.load_states()
    records = track_records(store, config, strict=False) if store.count_prices() else {}  # cached per data
    noise = noise_texts({name: rec.to_dict() for name, rec in records.items()})  # the rules' tests: one family
    out = []
    for r in config.rules:
        st = states.get(r.name, RuleState())
        out.append(
            RuleLine(
                r.name,
                r.describe_metric(),
                r.describe_condition(),
                r.spec.enabled,
                st.state.value,
                st.last_day,
                st.last_value,
                st.fired_at,
                noise.get(r.name),
                state_reason(r, st)
                + (
                    ""
                    if st.definition in (None, r.fingerprint)
                    else " (the rule before its edit; re-judged at the next check)"
                ),
            )
        )
    return out


def recent_alerts(store: Store, limit: int) -> list[AlertLine]:
    return [
        AlertLine(
            str(a.get("rule", "")),
            str(a.get("date", "")),
            str(a.get("kind", "firing")),
            as_float(a.get("value")),
            str(a.get("message", "")),
        )
        for a in store.recent_alerts(limit)
    ]
