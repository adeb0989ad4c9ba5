"""The daily check: evaluate every rule up to a day, then record states and alerts, once.

A check advances each rule from the day it last evaluated to ``as_of`` and, in one transaction,
saves the new rule states, records the alerts and hands the new ones to a *sink*, as Prometheus'
rule group ends its ``Eval`` in a ``NotifyFunc``. The check knows nothing of charts, track records
or Telegram: the sink decides what a new alert becomes (bot/jobs/notify.py queues it, with its
track record and chart, for every subscriber), and a test passes its own. Killed half-way, the
transaction rolls back and the next run redoes the same days; nothing is lost or sent twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from bot.answers import Reading, build_digest, render
from bot.config import Config
from bot.market import default_as_of, load_market_data, require_data_by, require_prices, rules_start
from bot.store import Store
from rules import Alert, DataError, MarketData, MetricSeries, Rule, RuleError, RuleResult, RuleState, compute, evaluate

# Alerts a catch-up finds older than this (before the checked day) are recorded but not sent.
SEND_WITHIN = dt.timedelta(days=14)

# Called inside the check's transaction with the new alerts worth sending: what it writes commits
# with them, or not at all.
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
    checked_to: dt.date | None = None  # the latest day the historical rules were already checked to
    reading: Reading | None = None  # what the evaluation computed: the digest is built from it, never re-evaluated

    @property
    def errors(self) -> dict[str, str]:
        return {r.rule.name: r.error for r in self.results if r.error and r.error != "disabled"}

    @property
    def template_failures(self) -> dict[str, str]:
        """Rules whose message template failed on a new alert: recorded and sent with a plain message instead."""
        return {a.rule: a.problem for a in self.alerts if a.problem}


@dataclass(frozen=True)
class Evaluated:
    """One evaluation of the rules up to a day, nothing recorded: what ``run_check`` records and the digest shows."""

    reading: Reading
    results: list[RuleResult]  # every rule's, those the data cannot answer included
    historical: list[str]
    checked_to: dt.date | None


def starting_states(
    stored: Mapping[str, RuleState], rules: Sequence[Rule], as_of: dt.date
) -> tuple[dict[str, RuleState], list[str], dt.date | None]:
    """The state each rule is evaluated from, the one place a stored state is set aside.

    A rule whose definition changed (threshold, condition, metric) starts afresh, warmed up like a new
    rule; so does a rule already checked past ``as_of``: that day is a look back (its rules are returned
    as ``historical``, with the latest day they were checked to), judged statelessly, recorded nowhere.
    """
    states: dict[str, RuleState] = {}
    historical: list[str] = []
    checked_to: dt.date | None = None
    for rule in rules:
        st = stored.get(rule.name, RuleState())
        if st.definition not in (None, rule.fingerprint):
            st = RuleState()
        if st.last_day is not None and st.last_day > as_of:
            historical.append(rule.name)
            checked_to = max(checked_to or st.last_day, st.last_day)
            st = RuleState()
        states[rule.name] = st
    return states, historical, checked_to


def evaluate_day(
    store: Store, config: Config, as_of: dt.date | None = None, rules: Sequence[Rule] | None = None
) -> Evaluated:
    """Evaluate ``rules`` (default: every rule; a disabled one is reported so) up to ``as_of`` from their stored
    states, saving nothing.

    The market data is loaded once, from the earliest day a rule still has to be stepped through (a year
    further back to warm up a new rule) or, when earlier, from a warm-up before ``as_of``: the window the
    digest shows each metric from, stale or not, so it is built from this one computation (``reading``).
    """
    rules = list(config.rules if rules is None else rules)
    # A rule the data cannot answer (an unknown universe) fails alone; the others are evaluated.
    failed = [
        RuleResult(r, RuleState(), error=config.rule_error(r.name)) for r in rules if r.name in config.unavailable
    ]
    rules = [r for r in rules if r.name not in config.unavailable]
    as_of = as_of or default_as_of(store, rules)
    states, historical, checked_to = starting_states(store.load_states(), rules, as_of)
    known = [s.last_day for s in states.values() if s.last_day is not None]
    earliest = min([*known, as_of]) if known else as_of
    fresh = any(s.last_day is None for s in states.values())
    start = min(rules_start(rules, earliest, warm_up=fresh), rules_start(rules, as_of, warm_up=True))
    data = load_market_data(store, config, rules, end=as_of, start=start)
    metrics: dict[str, MetricSeries] = {}
    for rule in rules:
        if rule.spec.enabled:
            with contextlib.suppress(RuleError):  # evaluate reports it as the rule's error
                metrics[rule.name] = compute(rule, data)
    evaluation = evaluate(rules, data, states, as_of, metrics=metrics)
    results = [*(_why_no_prices(store, data, start, as_of, r) for r in evaluation.results), *failed]
    reading = Reading(
        as_of,
        metrics,
        {r.rule.name: r.state for r in results if r.rule.name in metrics},
        {r.rule.name: r.error for r in results if r.error and r.error != "disabled"},
        evaluation.alerts,
    )
    return Evaluated(reading, results, historical, checked_to)


def _why_no_prices(store: Store, data: MarketData, start: dt.date, as_of: dt.date, result: RuleResult) -> RuleResult:
    """A failed rule whose symbols (or a universe's members) have stored closes, only none in the days loaded
    (``--as-of`` long after the data or before it), says where its closes are, not the engine's "no prices stored"."""
    if not result.error:
        return result
    close = data.close
    groups = [(s, [s]) for s in sorted(result.rule.symbols)]
    for universe in sorted(result.rule.universes):
        with contextlib.suppress(DataError):
            groups.append((f"any member of {universe}", list(data.members(universe))))
    for what, symbols in groups:
        if any(s in close.columns and close[s].notna().any() for s in symbols):
            continue
        last = store.last_dates(symbols)
        if not last:
            continue
        if max(last.values()) < start:
            why = f"no close of {what} from {start} to {as_of}: the last stored one is of {max(last.values())}"
        else:
            why = (
                f"no close of {what} by {as_of}: the first stored one is of {min(store.first_dates(symbols).values())}"
            )
        return dataclasses.replace(result, error=why)
    return result


def run_check(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    rules: Sequence[Rule] | None = None,
    sink: AlertSink | None = None,
) -> CheckReport:
    """Evaluate every enabled rule up to ``as_of`` (default: the latest stored close).

    New alerts dated within ``SEND_WITHIN`` of ``as_of`` go to ``sink``; without one they are only recorded.
    """
    started = time.perf_counter()
    rules = list(config.rules if rules is None else rules)
    available = [r for r in rules if r.name not in config.unavailable]
    require_prices(store, available)
    as_of = as_of or default_as_of(store, available)
    require_data_by(store, available, as_of)
    done = evaluate_day(store, config, as_of, rules)
    historical = done.historical
    prints = {r.name: r.fingerprint for r in rules}
    evaluated = {r.rule.name: r.state for r in done.results if r.rule.name not in config.unavailable}
    forward = {k: v.but(definition=prints.get(k)) for k, v in evaluated.items() if k not in historical}
    # A day before a rule's last check is a look back: its alerts are shown, never recorded or sent.
    past = [a for a in done.reading.alerts if a.rule in historical]
    alerts = [a for a in done.reading.alerts if a.rule not in historical]
    # Catching up a long gap records every alert but sends only the recent ones: news, not archives.
    cutoff = as_of - SEND_WITHIN
    with store.transaction():
        store.save_states(forward)
        new = store.record_alerts(alerts)
        to_send = [a for a in new if a.date >= cutoff]
        if sink and to_send:
            sink(store, to_send)
    new_keys = {a.key for a in new}
    repeated = [a for a in alerts if a.key not in new_keys]
    unsent = [a for a in new if a.date < cutoff]
    seconds = time.perf_counter() - started
    return CheckReport(
        as_of, done.results, new, repeated, historical, past, unsent, seconds, done.checked_to, done.reading
    )


def digest_text(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    only: Collection[str] | None = None,
) -> str:
    """The digest as ``/digest`` shows it, HTML: of an evaluation of the chat's rules that records nothing, so
    asking for one never changes what the daily check will alert.

    ``as_of`` defaults to the latest stored close; then the digest also warns when that close is more than a
    long weekend older than ``today`` (default: the date now). ``only`` is the rules a chat subscribed to (None:
    every rule); the digest names them, so a chat sees what it will be alerted about.
    """
    rules = [r for r in config.rules if r.spec.enabled and (only is None or r.name in only)]
    reading = None
    if rules:
        if as_of is None:
            today = today or dt.date.today()
        reading = evaluate_day(store, config, as_of, rules).reading
    return render.digest(build_digest(store, config, reading, only, today))


def rejudged(store: Store, old: Config, new: Config) -> list[str]:
    """The rules an edit from ``old`` to ``new`` makes judge differently (threshold, condition, metric, …) whose
    stored state is therefore the old rule's: ``reevaluate`` them once the edit is written."""
    before = {r.name: r.fingerprint for r in old.rules}
    states = store.load_states()
    return [
        r.name
        for r in new.rules
        if r.name in states and r.name in before and before[r.name] != r.fingerprint and r.spec.enabled
    ]


def reevaluate(store: Store, config: Config, names: Sequence[str]) -> dict[str, RuleState]:
    """Judge the named rules afresh on their new definition, up to the day they were last checked, and store
    their states: after an edit of a threshold, condition or metric, the state shown (/rules, check) is the
    new rule's, not the old one's. Nothing is recorded or sent for that day: it was already checked."""
    stored = store.load_states()
    rules = [r for r in config.rules if r.name in names and r.spec.enabled and stored.get(r.name)]
    done: dict[str, RuleState] = {}
    for rule in rules:
        last = stored[rule.name].last_day
        if last is None or stored[rule.name].definition == rule.fingerprint:
            continue
        data = load_market_data(store, config, [rule], end=last, start=rules_start([rule], last, warm_up=True))
        state = evaluate([rule], data, {}, last).states.get(rule.name)
        if state is not None:
            done[rule.name] = state.but(definition=rule.fingerprint)
    if done:
        with store.transaction():
            store.save_states(done)
    return done
