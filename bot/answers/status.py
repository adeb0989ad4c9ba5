"""Status: is the bot doing its job? Shared by ``rotation-bot status`` and the bot's /status.

Answers the questions an operator asks after a quiet day: when did the daily job last succeed,
how fresh is each source, is any close missing after a completed trading session (stale data),
and are alerts stuck in the outbox.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from bot.calendar import is_trading_day, last_trading_day
from bot.config import Config
from bot.history import expected_close, stale_symbols
from bot.store import Store, outbox, store_fault

# A symbol's close is expected once the session's daily check time has passed.
OUTBOX_STUCK = dt.timedelta(hours=1)


def status_report(store: Store, config: Config, now: dt.datetime | None = None) -> dict[str, Any]:
    """A plain dict (JSON-ready): runs, sources, freshness, warnings, outbox."""
    now = now or dt.datetime.now(dt.UTC)
    sc = config.settings.schedule
    local = now.astimezone(ZoneInfo(sc.timezone))
    warnings: list[str] = list(config.cannot_run())

    problems = store.integrity()  # a corrupt page shows here long before a query trips over it
    if problems:
        warnings.append(
            str(
                store_fault(
                    store.path, sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(problems))
                )
            )
        )

    runs: dict[str, Any] = {}
    for kind in ("daily", "cpi"):
        ok = store.last_run(kind, "ok")
        last = store.last_run(kind)
        runs[kind] = {
            "last_success": ok["finished_at"] if ok else None,
            "last_status": last["status"] if last else None,
            "last_detail": last["detail"] if last else None,
        }
        if last and last["status"] == "failed":
            warnings.append(f"the last {kind} run failed: {last['detail']}")

    sources = {r["source"]: {k: v for k, v in r.items() if k != "source"} for r in store.source_status()}
    for name, row in sources.items():
        failed_last = not row.get("last_success") or row["last_success"] < (row.get("last_attempt") or "")
        if row.get("last_error") and failed_last:  # partial failures (a delisted symbol) stay in ``sources``
            retry = f" (next try {row['next_retry']})" if row.get("next_retry") else ""
            warnings.append(f"source {name}: {row['last_error']}{retry}")

    expected = expected_close(now, config)
    symbols = list(config.settings.data.symbols)
    stale = sorted(stale_symbols(store, symbols, expected)) if expected else []
    latest = store.latest_date(symbols)
    if expected and stale:
        if len(stale) == len(symbols):
            warnings.append(f"stale data: no close for {expected} yet (latest stored {latest or 'none'})")
        else:
            warnings.append(f"stale data: no close for {expected} for {', '.join(stale)}")

    counts = outbox.counts(store)
    oldest = outbox.oldest_pending(store)
    if oldest and now - dt.datetime.fromisoformat(oldest) > OUTBOX_STUCK:
        warnings.append(f"{counts.get('pending', 0)} alerts waiting in the outbox since {oldest}")

    return {
        "now": local.isoformat(timespec="minutes"),
        "trading_day": is_trading_day(local.date(), sc.exchange),
        "last_session": last_trading_day(local.date(), sc.exchange).isoformat(),
        "expected_close": expected.isoformat() if expected else None,
        "latest_close": latest.isoformat() if latest else None,
        "stale_symbols": stale,
        # each rule's symbol to the day it has data: the ones behind the latest close are what a rule judges late
        "latest_by_symbol": {
            k: d.isoformat()
            for k, d in sorted(store.last_dates(sorted({x for r in config.rules for x in r.symbols})).items())
        },
        "runs": runs,
        "sources": sources,
        "outbox": {"by_status": counts, "pending": counts.get("pending", 0), "oldest_pending": oldest},
        "store": {"path": str(store.path), "integrity": problems or "ok"},
        "warnings": warnings,
        "ok": not warnings,
    }
