"""Track records from the store: a full-history replay per rule, cached per rule and data version.

Replaying a rule over decades (and breadth over 500 members) takes seconds, while an alert needs
its one-line track record at once. So the result is stored in ``track_cache`` keyed by the rule's
name, a hash of its definition and ``store.data_version()``: editing the rule or loading new
prices makes a new key, and anything else reads the cached row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from bot.config import Config, find_rule
from bot.errors import FETCH_FIRST, BotError, StoreError
from bot.market.data import universe_members
from bot.market.replay import run_replay
from bot.store import Store
from rules import (
    MarketData,
    Rule,
    RuleError,
    TrackRecord,
    is_current,
    summary_line,
    track_basis,
    track_horizons,
    track_record,
    track_symbols,
)

log = logging.getLogger(__name__)


def history_start(store: Store, config: Config, rule: Rule) -> dt.date:
    """The first stored day of the rule's data: all its symbols present, or any member, or any CPI release."""
    if rule.symbols:
        first = store.first_dates(sorted(rule.symbols))
        missing = sorted(rule.symbols - set(first))
        if missing:
            raise StoreError(f"no prices stored for {', '.join(missing)}: {FETCH_FIRST}")
        return max(first.values())
    members: set[str] = set()
    for u in rule.universes:
        members |= set(universe_members(store, config, u)) | {s for s, _, _ in store.membership_spans(u)}
    if members:
        first = store.first_dates(sorted(members))
        if first:
            return min(first.values())
    first_release = store.first_release_date() if rule.metric.uses_cpi else None
    if first_release:
        return first_release
    first_price = store.first_price_date()
    if first_price is None:
        raise StoreError(f"the store {store.path} holds no prices yet: {FETCH_FIRST}")
    return first_price


def compute_track_records(
    store: Store, config: Config, rules: Sequence[Rule], start: dt.date | None = None, end: dt.date | None = None
) -> tuple[dict[str, TrackRecord], dict[str, str]]:
    """Replay ``rules`` over all stored history (from ``start``, when given; one data load) and measure what
    followed each firing; up to ``end`` (inclusive) when given, with nothing after it loaded.

    Returns the records and, per rule that could not be tracked, why (its data is missing).
    Disabled rules are replayed too: their history is still a fair question.
    """
    errors: dict[str, str] = {}
    starts: dict[str, dt.date] = {}
    enabled: list[Rule] = []
    for r in rules:
        try:
            starts[r.name] = history_start(store, config, r)
        except BotError as exc:
            errors[r.name] = str(exc)
            continue
        enabled.append(Rule(r.spec.model_copy(update={"enabled": True}), r.params))
    if not enabled:
        return {}, errors
    sub = Config(config.settings, enabled, config.path)
    first_day = start or min(starts.values())
    replayed, _ = run_replay(store, sub, first_day, end, rule_names=[r.name for r in enabled])
    errors.update(replayed.errors)
    symbols = {s for r in enabled if r.name not in errors for s in track_symbols(r) if s}
    close, adj = store.load_prices(symbols, end=end)
    prices = MarketData(close=close, adj_close=adj)
    out: dict[str, TrackRecord] = {}
    for rule in enabled:
        if rule.name in errors:
            continue
        alerts = [a for a in replayed.alerts if a.rule == rule.name]
        try:
            out[rule.name] = track_record(
                alerts,
                prices,
                track_symbols(rule),
                track_horizons(rule),
                end,
                basis=track_basis(rule),
                since=replayed.first.get(rule.name, max(first_day, starts[rule.name])),  # the first day it could run
                rule=rule.name,
            )
        except RuleError as exc:
            errors[rule.name] = f"cannot track it: {exc}"
    return out, errors


def _cached(store: Store, rule: Rule, version: int) -> TrackRecord | None:
    payload = store.cached_track(rule.name, rule.fingerprint, version)
    return TrackRecord.from_dict(payload) if payload and is_current(payload) else None  # older evidence: recompute


def track_records(
    store: Store, config: Config, names: Sequence[str] | None = None, use_cache: bool = True, strict: bool = True
) -> dict[str, TrackRecord]:
    """Track records for the named rules (default: all), from the cache where it is current.

    A rule that cannot be tracked (its data is missing) raises StoreError, or is left out when not ``strict``.
    """
    out, errors = _records(store, config, names, use_cache)
    if errors and strict:
        name, why = next(iter(errors.items()))
        raise StoreError(f'no track record for rule "{name}": {why}')
    return out


def _records(
    store: Store, config: Config, names: Sequence[str] | None, use_cache: bool = True
) -> tuple[dict[str, TrackRecord], dict[str, str]]:
    """The records found or computed (the missing ones in one replay), and why each other rule has none."""
    rules = [find_rule(config, n) for n in names] if names is not None else list(config.rules)
    version = store.data_version()
    out: dict[str, TrackRecord] = {}
    missing: list[Rule] = []
    for rule in rules:
        hit = _cached(store, rule, version) if use_cache else None
        if hit is None:
            missing.append(rule)
        else:
            out[rule.name] = hit
    errors: dict[str, str] = {}
    if missing:
        fresh, errors = compute_track_records(store, config, missing)
        for name, record in fresh.items():
            store.save_track(name, find_rule(config, name).fingerprint, version, record.to_dict())
        out.update(fresh)
    return {r.name: out[r.name] for r in rules if r.name in out}, errors


def as_of_record(store: Store, rule: Rule, record: TrackRecord, as_of: dt.date) -> TrackRecord:
    """``record`` as it stood at the close of ``as_of``: its firings up to that day, moves and base rates from
    closes known by then (later horizons open).

    The replay is causal (a rule's state on a day depends only on days before it), so the firings of the full
    replay up to ``as_of`` are those of a replay that stops there (a test checks it on the real data); only the
    moves need the closes cut at ``as_of``.
    """
    if record.as_of is not None and as_of >= record.as_of:
        return record
    symbols = track_symbols(rule)
    close, adj = store.load_prices({s for s in symbols if s}, end=as_of)
    return track_record(
        [(f.date, f.value) for f in record.firings if f.date <= as_of],
        MarketData(close=close, adj_close=adj),
        symbols,
        record.horizons,
        as_of,
        basis=track_basis(rule),
        since=record.since,
        rule=rule.name,
    )


def track_record_for(store: Store, config: Config, name: str, as_of: dt.date | None = None) -> TrackRecord:
    """The rule's track record, as of the close of ``as_of`` when given (nothing known after it is used)."""
    record = track_records(store, config, [name])[name]
    return record if as_of is None else _as_of(store, config, record, as_of)


def _as_of(store: Store, config: Config, record: TrackRecord, as_of: dt.date) -> TrackRecord:
    if record.since is not None and as_of < record.since:
        # no later day named: a record as of a day knows nothing after it, errors included
        raise StoreError(
            f'rule "{record.rule}" has no data by {as_of}: nothing of it is known yet (try a later --as-of)'
        )
    return as_of_record(store, find_rule(config, record.rule), record, as_of)


# --- renderings --------------------------------------------------------------------------------


def stats_lines(store: Store, config: Config, firings: Sequence[tuple[str, dt.date | None]]) -> list[str | None]:
    """The line appended to each alert (its rule's track record as of the alert's own day; None: today), or None
    where it cannot be computed: never blocks an alert. The rules missing from the cache (every one after a fetch)
    are replayed together, one load of market data for all of them rather than one per alert."""
    configured = {r.name for r in config.rules}
    names = sorted({name for name, _ in firings} & configured)
    try:
        records, errors = _records(store, config, names) if names else ({}, {})
    except (BotError, RuleError) as exc:
        records, errors = {}, dict.fromkeys(names, str(exc))
    lines: list[str | None] = []
    for name, day in firings:
        try:
            if name not in records:
                raise StoreError(errors.get(name, "no such rule in config.toml"))
            record = records[name]
            lines.append(summary_line(record if day is None else _as_of(store, config, record, day)))
        except (BotError, RuleError) as exc:
            log.warning("no track record for %s: %s", name, exc)
            lines.append(None)
    return lines


def stats_json(store: Store, config: Config, rule_name: str, as_of: dt.date | None = None) -> dict[str, Any]:
    record = track_record_for(store, config, rule_name, as_of)
    return {**record.to_dict(), "summary": summary_line(record)}
