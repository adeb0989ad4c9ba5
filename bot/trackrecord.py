"""Track records from the store: a full-history replay per rule, cached per rule and data version.

Replaying a rule over decades (and breadth over 500 members) takes seconds, while an alert needs
its one-line track record at once. So the result is stored in ``track_cache`` keyed by the rule's
name, a hash of its definition and ``store.data_version()``: editing the rule or loading new
prices makes a new key, and anything else reads the cached row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.checks import run_replay
from bot.config import Config
from bot.errors import BotError, StoreError
from bot.marketdata import universe_members
from bot.store import Store, utcnow
from rules import MarketData, Rule, RuleError
from rules.track import (
    TrackRecord,
    format_move,
    horizon_label,
    signed,
    summary_line,
    track_basis,
    track_horizons,
    track_record,
    track_symbols,
)

log = logging.getLogger(__name__)

# Telegram messages stop at 4096 characters; the newest firings are the interesting ones.
MAX_FIRINGS_IN_CHAT = 15


def find_rule(config: Config, name: str) -> Rule:
    for rule in config.rules:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in config.rules) or "none"
    raise BotError(f"no rule named {name!r}; known rules: {known}")


def rule_hash(rule: Rule) -> str:
    """Changes whenever anything that shapes the rule's firings or their tracking changes."""
    payload = {
        "metric": rule.spec.metric,
        "spec": rule.spec.model_dump(mode="json", exclude={"message", "description", "chats", "severity", "enabled"}),
        "params": rule.params.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def history_start(store: Store, config: Config, rule: Rule) -> dt.date:
    """The first stored day of the rule's data: all its symbols present, or any member, or any CPI release."""
    if rule.symbols:
        first = store.first_dates(sorted(rule.symbols))
        missing = sorted(rule.symbols - set(first))
        if missing:
            raise StoreError(f"no prices stored for {', '.join(missing)}: run `rotation-bot fetch` first")
        return max(first.values())
    members: set[str] = set()
    for u in rule.universes:
        members |= set(universe_members(store, config, u)) | {s for s, _, _ in store.membership_spans(u)}
    if members:
        first = store.first_dates(sorted(members))
        if first:
            return min(first.values())
    if rule.metric.uses_cpi:
        row = store.db.execute("SELECT MIN(release_date) FROM cpi_releases").fetchone()
        if row and row[0]:
            return dt.date.fromisoformat(row[0])
    row = store.db.execute("SELECT MIN(date) FROM prices").fetchone()
    if not row or not row[0]:
        raise StoreError(f"the store {store.path} holds no prices yet: run `rotation-bot fetch` first")
    return dt.date.fromisoformat(row[0])


def compute_track_records(
    store: Store, config: Config, rules: Sequence[Rule]
) -> tuple[dict[str, TrackRecord], dict[str, str]]:
    """Replay ``rules`` over all stored history (one data load) and measure what followed each firing.

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
    replayed, _ = run_replay(store, sub, min(starts.values()), rule_names=[r.name for r in enabled])
    errors.update(replayed.errors)
    symbols = {s for r in enabled if r.name not in errors for s in track_symbols(r) if s}
    close, adj = store.load_prices(symbols)
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
                basis=track_basis(rule),
                since=starts[rule.name],
                rule=rule.name,
            )
        except RuleError as exc:
            errors[rule.name] = f"cannot track it: {exc}"
    return out, errors


def _cached(store: Store, rule: Rule, version: int) -> TrackRecord | None:
    row = store.db.execute(
        "SELECT payload FROM track_cache WHERE rule = ? AND rule_hash = ? AND data_version = ?",
        [rule.name, rule_hash(rule), version],
    ).fetchone()
    return TrackRecord.from_dict(json.loads(row[0])) if row else None


def _save(store: Store, rule: Rule, version: int, record: TrackRecord) -> None:
    with store.transaction():
        store.db.execute("DELETE FROM track_cache WHERE rule = ?", [rule.name])
        store.db.execute(
            "INSERT INTO track_cache (rule, rule_hash, data_version, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            [rule.name, rule_hash(rule), version, json.dumps(record.to_dict(), allow_nan=False), utcnow()],
        )


def track_records(
    store: Store, config: Config, names: Sequence[str] | None = None, use_cache: bool = True
) -> dict[str, TrackRecord]:
    """Track records for the named rules (default: all), from the cache where it is current."""
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
    if missing:
        fresh, errors = compute_track_records(store, config, missing)
        for name, record in fresh.items():
            _save(store, find_rule(config, name), version, record)
        if errors:
            name, why = next(iter(errors.items()))
            raise StoreError(f'no track record for rule "{name}": {why}')
        out.update(fresh)
    return {r.name: out[r.name] for r in rules}


def track_record_for(store: Store, config: Config, name: str) -> TrackRecord:
    return track_records(store, config, [name])[name]


# --- renderings --------------------------------------------------------------------------------


def stats_line(store: Store, config: Config, rule_name: str) -> str | None:
    """The one line appended to an alert, or None when it cannot be computed (never blocks an alert)."""
    try:
        return summary_line(track_record_for(store, config, rule_name))
    except (BotError, RuleError) as exc:
        log.warning("no track record for %s: %s", rule_name, exc)
        return None


def stats_json(store: Store, config: Config, rule_name: str) -> dict[str, Any]:
    record = track_record_for(store, config, rule_name)
    return {**record.to_dict(), "summary": summary_line(record)}


def _what(record: TrackRecord) -> str:
    if record.benchmark:
        return f"{record.symbol} minus {record.benchmark}, in points"
    return f"{record.symbol} change, in %"


def _horizon_lines(record: TrackRecord) -> list[str]:
    lines = []
    for s in record.summaries:
        label = horizon_label(s.horizon)
        if s.n == 0:
            lines.append(f"{label}: n = 0 complete ({s.open} open)")
            continue
        opened = f", {s.open} open" if s.open else ""
        lines.append(
            f"{label}: n = {s.n}{opened}; positive after {s.positive} of {s.n}, "
            f"median {format_move(s.median, record.unit)}, best {format_move(s.best, record.unit)}, "
            f"worst {format_move(s.worst, record.unit)}"
        )
    return lines


def _short(h: int) -> str:
    return f"{h // 21}m" if h % 21 == 0 else f"{h}d"


def _cell(m: float | None) -> str:
    return "open" if m is None else signed(m)


def _value(v: float | None) -> str:
    """A metric value in at most 7 characters: 0.4008, 76.22, 1234.5."""
    if v is None:
        return ""
    a = abs(v)
    return f"{v:.4f}" if a < 1 else f"{v:.3f}" if a < 10 else f"{v:.2f}" if a < 100 else f"{v:.1f}"


def _firing_table(record: TrackRecord, limit: int | None) -> tuple[list[str], int]:
    """Fixed-width rows (date, value, one move per horizon); narrow enough for a phone."""
    firings = list(record.firings)
    shown = firings if limit is None else firings[-limit:]
    rows = [f"{'date':<10} {'value':>7}" + "".join(f" {_short(h):>6}" for h in record.horizons)]
    for f in shown:
        rows.append(f"{f.date.isoformat():<10} {_value(f.value):>7}" + "".join(f" {_cell(m):>6}" for m in f.moves))
    return rows, len(firings) - len(shown)


def stats_table(record: TrackRecord, rule: Rule | None = None) -> str:
    """Plain text for the terminal: every firing."""
    title = record.rule + (f" — {rule.describe_metric()} {rule.describe_condition()}" if rule else "")
    lines = [title, summary_line(record), f"Forward move: {_what(record)}; as of {record.as_of}."]
    lines += ["", *_horizon_lines(record)]
    if record.firings:
        table, _ = _firing_table(record, None)
        lines += ["", *table]
    return "\n".join(lines)


def stats_html(record: TrackRecord, rule: Rule | None = None) -> str:
    """HTML for Telegram: the summary, one line per horizon, the latest firings in a <pre> block."""
    e = html.escape
    title = f"<b>{e(record.rule)}</b>"
    if rule:
        title += f"\n{e(rule.describe_metric())} {e(rule.describe_condition())}"
    lines = [title, e(summary_line(record)), f"<i>Forward move: {e(_what(record))}; as of {record.as_of}.</i>", ""]
    lines += [e(x) for x in _horizon_lines(record)]
    if record.firings:
        table, hidden = _firing_table(record, MAX_FIRINGS_IN_CHAT)
        lines += ["", "<pre>" + e("\n".join(table)) + "</pre>"]
        if hidden:
            lines.append(f"(latest {len(table) - 1} of {len(record.firings)} firings; all of them: rotation-bot stats)")
    return "\n".join(lines)


def stats_text(store: Store, config: Config, rule_name: str) -> str:
    """The /stats answer (HTML). Raises BotError for an unknown rule or missing data."""
    rule = find_rule(config, rule_name)
    return stats_html(track_record_for(store, config, rule_name), rule)
