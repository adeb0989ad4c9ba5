"""Prices dated after the latest session, in a store filled before ingest refused them: found, and dropped.

Rows dated 2030-01-02 made every check judge that day and every real day a look back until 2030. ``prices_after``
finds them (``status`` and ``check`` warn); ``drop_after`` deletes them in one transaction together with what was
judged on them: the rule states checked past the day (each starts afresh on the next check, warmed up like a new
rule, so nothing fires for a condition that already held), the alerts dated after it, and their queued messages
(dropped, never sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.store.db import Store
from bot.store.pricecache import drop_column

DROPPED_WHY = "dated after the latest session: computed from prices that cannot exist yet"


@dataclass(frozen=True)
class Dropped:
    """What ``drop_after`` deleted."""

    prices: dict[str, int]  # rows per symbol
    states: list[str]  # rules whose state was checked past the day
    alerts: int
    queued: int  # pending outbox rows of those days, now dropped


def prices_after(store: Store, day: dt.date) -> dict[str, dt.date]:
    """Per symbol with a price dated after ``day``, its last stored day (one index seek per symbol)."""
    return {s: d for s, d in store.last_dates().items() if d > day}


def drop_after(store: Store, day: dt.date) -> Dropped:
    """Delete every price dated after ``day``, and the states, alerts and queued messages judged on them."""
    found = prices_after(store, day)
    after = day.isoformat()
    db = store.db
    with store.transaction():
        prices = {}
        for symbol in found:
            prices[symbol] = db.execute("DELETE FROM prices WHERE symbol = ? AND date > ?", [symbol, after]).rowcount
            drop_column(db.conn, symbol)  # rebuilt from the rows on the next read
        states = sorted(n for n, st in store.load_states().items() if st.last_day is not None and st.last_day > day)
        db.conn.executemany("DELETE FROM rule_state WHERE rule = ?", [[n] for n in states])
        alerts = db.execute("DELETE FROM alerts WHERE date > ?", [after]).rowcount
        # Keys are RULE|DAY|KIND or @digest|DAY[|n]; a rule's name holds no "|", and admin notices are kept.
        queued = db.execute(
            "UPDATE outbox SET status = 'dropped', last_error = ? WHERE status = 'pending'"
            " AND alert_key NOT LIKE '@admin|%' AND substr(alert_key, instr(alert_key, '|') + 1, 10) > ?",
            [DROPPED_WHY, after],
        ).rowcount
        latest = store.latest_date()
        db.execute(
            "UPDATE source_status SET last_data_date = ? WHERE last_data_date > ?",
            [latest.isoformat() if latest else None, after],
        )
        if prices:
            store._bump_data_version()
    return Dropped(prices, states, alerts, queued)
