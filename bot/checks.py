"""The check and replay jobs: store → rule engine → store, shared by the CLI, the bot and the scheduler.

A check advances each rule from the day it last evaluated to ``as_of`` and, in one transaction,
saves the new rule states, records the alerts and queues them for delivery. Killed half-way, the
transaction rolls back and the next run redoes the same days; nothing is lost or sent twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.config import Config
from bot.errors import StoreError
from bot.marketdata import load_market_data, universe_members
from bot.outbox import attach_photos, subscribers
from bot.store import Store
from rules import Alert, Replay, Rule, RuleResult, RuleState, evaluate, replay
from rules.model import lookback_days
from rules.track import track_symbols

# Calendar days per trading day, with slack for holidays; and a year of warm-up for a new rule.
CALENDAR_PER_TRADING_DAY = 1.5
WARM_UP_DAYS = 400
# Alerts a catch-up finds older than this (before the checked day) are recorded but not sent.
SEND_WITHIN = dt.timedelta(days=14)

AlertSink = Callable[[Store, Sequence[Alert]], object]


@dataclass
class CheckReport:
    as_of: dt.date
    results: list[RuleResult]
    alerts: list[Alert]  # new alerts recorded by this run
    repeated: list[Alert] = field(default_factory=list)  # alerts for these days already recorded earlier
    historical: list[str] = field(default_factory=list)  # rules evaluated statelessly (as_of before their state)
    looked_back: list[Alert] = field(default_factory=list)  # their alerts: shown, not recorded, not sent
    unsent: list[Alert] = field(default_factory=list)  # new but older than SEND_WITHIN: recorded, not sent
    seconds: float = 0.0

    @property
    def errors(self) -> dict[str, str]:
        return {r.rule.name: r.error for r in self.results if r.error and r.error != "disabled"}


def _start_for(rules: Sequence[Rule], earliest: dt.date) -> dt.date:
    days = int(lookback_days(rules) * CALENDAR_PER_TRADING_DAY) + 10
    return earliest - dt.timedelta(days=days)


def _require_data_by(store: Store, rules: Sequence[Rule], day: dt.date) -> None:
    """A day before every rule's data begins is a mistake worth one clear line, not a per-rule error."""
    symbols = sorted(set().union(*(r.symbols for r in rules))) if rules else []
    first = store.first_dates(symbols)
    if first and min(first.values()) > day:
        raise StoreError(f"no prices on or before {day}: the rules' data starts on {min(first.values())}")


def default_as_of(store: Store, rules: Sequence[Rule]) -> dt.date:
    symbols = sorted(set().union(*(r.symbols for r in rules))) if rules else []
    latest = store.latest_date(symbols) if symbols else None
    latest = latest or store.latest_date()
    if latest is None:
        raise StoreError(f"the store {store.path} holds no prices yet: run `rotation-bot fetch` first")
    return latest


def run_check(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    rules: Sequence[Rule] | None = None,
    sink: AlertSink | None = None,
    annotate: bool = True,
    charts: bool = True,
) -> CheckReport:
    """Evaluate every enabled rule up to ``as_of`` (default: the latest stored close).

    With ``annotate``, each new firing carries its rule's track record line; only when ``as_of`` is
    the latest stored day, so a check of a past day never quotes what happened after it. With
    ``charts``, each alert queued for delivery carries the chart of its metric.
    """
    started = time.perf_counter()
    rules = list(config.rules if rules is None else rules)
    if store.count_prices() == 0:
        raise StoreError(f"the store {store.path} holds no prices yet: run `rotation-bot fetch` first")
    as_of = as_of or default_as_of(store, rules)
    _require_data_by(store, rules, as_of)
    stored = store.load_states()
    states: dict[str, RuleState] = {}
    historical: list[str] = []
    for rule in rules:
        st = stored.get(rule.name, RuleState())
        if st.last_day is not None and st.last_day > as_of:
            historical.append(rule.name)
            st = RuleState()
        states[rule.name] = st
    known = [s.last_day for s in states.values() if s.last_day is not None]
    earliest = min([*known, as_of]) if known else as_of
    fresh = any(s.last_day is None for s in states.values())
    start = _start_for(rules, earliest - dt.timedelta(days=WARM_UP_DAYS if fresh else 0))
    data = load_market_data(store, config, rules, end=as_of, start=start)
    evaluation = evaluate(rules, data, states, as_of)
    forward = {k: v for k, v in evaluation.states.items() if k not in historical}
    # A day before a rule's last check is a look back: its alerts are shown, never recorded or sent.
    past = [a for a in evaluation.alerts if a.rule in historical]
    alerts = [a for a in evaluation.alerts if a.rule not in historical]
    # Catching up a long gap records every alert but sends only the recent ones: news, not archives.
    cutoff = as_of - SEND_WITHIN
    if annotate and alerts and _nothing_after(store, config, rules, as_of):
        alerts = _with_track_record(store, config, alerts, since=cutoff)
    photos = _charts(store, config, alerts, cutoff) if sink and charts else {}
    with store.transaction():
        store.save_states(forward)
        new = store.record_alerts(alerts)
        to_send = [a for a in new if a.date >= cutoff]
        if sink and to_send:
            sink(store, to_send)
            attach_photos(store, {a.key: photos[a.key] for a in to_send if a.key in photos})
    new_keys = {a.key for a in new}
    repeated = [a for a in alerts if a.key not in new_keys]
    unsent = [a for a in new if a.date < cutoff]
    return CheckReport(
        as_of, evaluation.results, new, repeated, historical, past, unsent, time.perf_counter() - started
    )


def _nothing_after(store: Store, config: Config, rules: Sequence[Rule], day: dt.date) -> bool:
    """No close of the rules' symbols (universe members too) after ``day``: a track record then quotes no future."""
    symbols: set[str] = set()
    for r in rules:
        symbols |= r.symbols
        symbol, benchmark = track_symbols(r)  # what a track record measures (a CPI rule's: the indices)
        symbols |= {s for s in (symbol, benchmark) if s}
        for u in r.universes:
            symbols |= set(universe_members(store, config, u))
    latest = store.latest_date(sorted(symbols)) if symbols else store.latest_date()  # index seeks, not a scan
    return latest is None or day >= latest


def _with_track_record(store: Store, config: Config, alerts: Sequence[Alert], since: dt.date) -> list[Alert]:
    """Append the track-record line to recent firings not yet recorded (computed before the write transaction)."""
    from bot.trackrecord import stats_line

    out = []
    for a in alerts:
        line = None
        if a.kind == "firing" and a.date >= since and not store.alert_exists(a.key):
            line = stats_line(store, config, a.rule)
        out.append(replace(a, message=f"{a.message}\n{line}") if line else a)
    return out


def _charts(store: Store, config: Config, alerts: Sequence[Alert], since: dt.date) -> dict[str, bytes]:
    """The chart of each firing that will be sent (drawn before the write transaction, which stays short)."""
    if not subscribers(store) and all(a.chats is None for a in alerts):
        return {}  # nobody to send them to
    from bot.charts import chart_for_alert

    photos = {}
    for a in alerts:
        if a.kind == "firing" and a.date >= since and not store.alert_exists(a.key):
            png = chart_for_alert(store, config, a)
            if png:
                photos[a.key] = png
    return photos


def run_replay(
    store: Store,
    config: Config,
    start: dt.date,
    end: dt.date | None = None,
    rule_names: Sequence[str] | None = None,
) -> tuple[Replay, float]:
    """Every alert the rules would have sent between ``start`` and ``end``, with the time it took."""
    t0 = time.perf_counter()
    rules = [r for r in config.rules if r.spec.enabled]
    if rule_names:
        unknown = sorted(set(rule_names) - {r.name for r in rules})
        if unknown:
            raise StoreError(f"no rule named {', '.join(unknown)}; see `rotation-bot rules list`")
        rules = [r for r in rules if r.name in rule_names]
    if store.count_prices() == 0:
        raise StoreError(f"the store {store.path} holds no prices yet: run `rotation-bot fetch` first")
    end = end or default_as_of(store, rules)
    data = load_market_data(
        store, config, rules, end=end, start=_start_for(rules, start - dt.timedelta(days=WARM_UP_DAYS))
    )
    result = replay(rules, data, start, end)
    return result, time.perf_counter() - t0
