"""Status: is the bot doing its job? One model, ``StatusView``, behind ``rotation-bot status`` and /status.

Answers the questions an operator asks after a quiet day: when did the daily job last succeed,
how fresh is each source, is any close missing after a completed trading session (stale data),
and are alerts stuck in the outbox. The command line (table and JSON) and the chat render the
same model, so a warning the one shows the other shows too; the running bot adds what only it
knows (its next runs and its last error). No pandas here: ``status`` starts without it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendar import is_trading_day, last_price_day, last_trading_day
from bot.config import Config
from bot.market import expected_close, stale_symbols
from bot.store import Store, chats, future, outbox, store_fault

# A symbol's close is expected once the session's daily check time has passed.
OUTBOX_STUCK = dt.timedelta(hours=1)
NAMED = 5  # symbols named per day in the future-prices warning (a members' file can hold 500)
RATIO_PAIR = ("^RUT", "^GSPC")  # /ratio's default pair; its dates are shown when no rule names a symbol


@dataclass(frozen=True)
class RunLine:
    """A job kind's (daily, cpi) last success and last run, whatever its outcome."""

    last_success: str | None
    last_status: str | None
    last_detail: str | None


@dataclass(frozen=True)
class SourceLine:
    """One data source's row of ``source_status`` (times as the store wrote them)."""

    source: str
    last_attempt: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_data_date: str | None = None
    next_retry: str | None = None


@dataclass(frozen=True)
class StatusView:
    now: dt.datetime  # in the schedule's time zone
    trading_day: bool
    last_session: dt.date
    expected_close: dt.date | None  # the session whose close should be stored by now
    latest_close: dt.date | None  # of the data symbols
    stale_symbols: list[str]
    latest_by_symbol: dict[str, dt.date]  # the rules' symbols: those behind latest_close are judged on an older day
    runs: dict[str, RunLine]
    last_run: dict[str, Any] | None  # the last run of any kind
    sources: list[SourceLine]
    outbox: dict[str, int]  # rows per status
    oldest_pending: str | None
    store_path: str
    integrity: list[str]  # PRAGMA quick_check's problems; empty when the store is sound
    rules_loaded: int
    rules_enabled: int
    subscribers: int
    warnings: list[str]
    next_runs: dict[str, dt.datetime] = field(default_factory=dict)  # the running bot's schedule
    last_error: str | None = None  # the running bot's last error, else the first warning

    @property
    def ok(self) -> bool:
        return not self.warnings

    @property
    def pending(self) -> int:
        return self.outbox.get("pending", 0)

    def as_json(self) -> dict[str, Any]:
        """``rotation-bot status --format json``: keys monitors read, so they do not change."""
        return {
            "now": self.now.isoformat(timespec="minutes"),
            "trading_day": self.trading_day,
            "last_session": self.last_session.isoformat(),
            "expected_close": _day(self.expected_close),
            "latest_close": _day(self.latest_close),
            "stale_symbols": self.stale_symbols,
            "latest_by_symbol": {k: d.isoformat() for k, d in self.latest_by_symbol.items()},
            "runs": {kind: asdict(run) for kind, run in self.runs.items()},
            "sources": {s.source: {k: v for k, v in asdict(s).items() if k != "source"} for s in self.sources},
            "outbox": {"by_status": self.outbox, "pending": self.pending, "oldest_pending": self.oldest_pending},
            "store": {"path": self.store_path, "integrity": self.integrity or "ok"},
            "warnings": self.warnings,
            "ok": self.ok,
        }


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def future_prices(store: Store, config: Config, now: dt.datetime) -> tuple[dt.date, str | None]:
    """The latest session at ``now``, and a warning when the store holds prices dated after it (loaded before
    ingest refused them), with the way out: ``status`` warns, ``check`` refuses to judge a day past it."""
    day = last_price_day(now, config.settings.schedule.exchange)
    found = future.prices_after(store, day)
    if not found:
        return day, None
    by_day: dict[dt.date, list[str]] = {}
    for symbol, last in sorted(found.items()):
        by_day.setdefault(last, []).append(symbol)
    listed = "; ".join(
        f"{', '.join(names[:NAMED])}{f' and {len(names) - NAMED} more' if len(names) > NAMED else ''} to {last}"
        for last, names in sorted(by_day.items())
    )
    return day, (
        f"the store holds prices dated after the latest session ({day}): {listed}; a check of them judges days "
        "that have not happened, and makes every real day a look back. Drop them (and what was checked on them) "
        "with `rotation-bot fetch --drop-future`"
    )


def status_view(
    store: Store,
    config: Config,
    now: dt.datetime | None = None,
    *,
    next_runs: dict[str, dt.datetime] | None = None,
    last_error: str | None = None,
) -> StatusView:
    """Runs, sources, freshness, the outbox and every warning; ``next_runs`` and ``last_error`` come from
    the running bot (the command line has neither)."""
    now = now or dt.datetime.now(dt.UTC)
    sc = config.settings.schedule
    local = now.astimezone(ZoneInfo(sc.timezone))
    warnings: list[str] = list(config.cannot_run())

    problems = store.integrity()  # a corrupt page shows here long before a query trips over it
    if problems:
        malformed = sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(problems))
        warnings.append(str(store_fault(store.path, malformed)))

    runs: dict[str, RunLine] = {}
    for kind in ("daily", "cpi"):
        ok = store.last_run(kind, "ok")
        last = store.last_run(kind)
        runs[kind] = RunLine(
            ok["finished_at"] if ok else None, last["status"] if last else None, last["detail"] if last else None
        )
        if last and last["status"] == "failed":
            warnings.append(f"the last {kind} run failed: {last['detail']}")

    sources = [SourceLine(**row) for row in store.source_status()]
    for s in sources:
        failed_last = not s.last_success or s.last_success < (s.last_attempt or "")
        if s.last_error and failed_last:  # partial failures (a delisted symbol) stay in ``sources``
            retry = f" (next try {s.next_retry})" if s.next_retry else ""
            warnings.append(f"source {s.source}: {s.last_error}{retry}")

    expected = expected_close(now, config)
    symbols = list(config.settings.data.symbols)
    stale = sorted(stale_symbols(store, symbols, expected)) if expected else []
    latest = store.latest_date(symbols)
    if expected and stale:
        if len(stale) == len(symbols):
            warnings.append(f"stale data: no close for {expected} yet (latest stored {latest or 'none'})")
        else:
            warnings.append(f"stale data: no close for {expected} for {', '.join(stale)}")

    warning = future_prices(store, config, now)[1]
    if warning:
        warnings.append(warning)

    counts = outbox.counts(store)
    oldest = outbox.oldest_pending(store)
    if oldest and now - dt.datetime.fromisoformat(oldest) > OUTBOX_STUCK:
        warnings.append(f"{counts.get('pending', 0)} alerts waiting in the outbox since {oldest}")

    rule_symbols = sorted({x for r in config.rules for x in r.symbols}) or list(RATIO_PAIR)
    errors = [e for e in (last_error, *warnings) if e]
    return StatusView(
        now=local,
        trading_day=is_trading_day(local.date(), sc.exchange),
        last_session=last_trading_day(local.date(), sc.exchange),
        expected_close=expected,
        latest_close=latest,
        stale_symbols=stale,
        latest_by_symbol=dict(sorted(store.last_dates(rule_symbols).items())),
        runs=runs,
        last_run=store.last_run(),
        sources=sources,
        outbox=counts,
        oldest_pending=oldest,
        store_path=str(store.path),
        integrity=problems,
        rules_loaded=len(config.rules),
        rules_enabled=sum(1 for r in config.rules if r.spec.enabled),
        subscribers=len(chats.subscribers(store)),
        warnings=warnings,
        next_runs=dict(next_runs or {}),
        last_error=errors[0] if errors else None,
    )
