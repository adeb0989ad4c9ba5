"""The SQLite store (sqlite-utils, WAL): prices, reference data, rule state and alert history.

One file holds everything the bot knows, so a restart picks up exactly where it stopped. Writes
are idempotent upserts keyed on natural keys ((symbol, date) for prices, (rule, date, kind) for
alerts), which is what makes re-running a fetch or a check harmless. All of the bot's SQL lives in
this package.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bot.store.base import iso, utcnow
from bot.store.cpi import CpiTables
from bot.store.faults import read_back
from bot.store.guards import guard_member, guard_prices, guard_span
from bot.store.pricecache import PriceCache, column_ends, drop_column, wide_frames
from rules import Alert, RuleState

__all__ = ["Store", "iso", "utcnow"]

# Unchanged rows cost nothing: re-running a fetch changes 0 rows. A missing price (NULL) never replaces a stored
# one, whoever writes: an empty close erased 5633.91 and the ratio read 2051.75 from the adj_close left.
UPSERT_PRICE = """INSERT INTO prices (symbol, date, close, adj_close) VALUES (?, ?, ?, ?)
ON CONFLICT (symbol, date) DO UPDATE
SET close = COALESCE(excluded.close, prices.close), adj_close = COALESCE(excluded.adj_close, prices.adj_close)
WHERE prices.close IS NOT COALESCE(excluded.close, prices.close)
   OR prices.adj_close IS NOT COALESCE(excluded.adj_close, prices.adj_close)"""

# Each next symbol is the least one after the last: a skip over the primary key, not a scan of every row.
SYMBOLS = """WITH RECURSIVE s(symbol) AS (SELECT MIN(symbol) FROM prices
UNION ALL SELECT (SELECT MIN(symbol) FROM prices WHERE symbol > s.symbol) FROM s WHERE s.symbol IS NOT NULL)
SELECT symbol FROM s"""


class Store(CpiTables):
    """Typed access to the bot's SQLite file."""

    _price_cache: PriceCache | None = None

    # --- prices --------------------------------------------------------------------------------

    def upsert_prices(self, symbol: str, frame: pd.DataFrame, through: dt.date | None = None) -> int:
        """Store one symbol's daily rows (index: dates; columns close and/or adj_close).

        Returns how many rows were new or changed; unchanged rows cost nothing, so re-running a
        fetch adds 0. NaN means missing and keeps a stored price; a price that is not positive and finite,
        or a date after ``through`` (the latest session; by default the latest day begun anywhere), raises
        StoreError.
        """
        return self.upsert_many({symbol: frame}, through)[symbol]

    def upsert_many(self, frames: Mapping[str, pd.DataFrame], through: dt.date | None = None) -> dict[str, int]:
        """``upsert_prices`` for many symbols in one transaction (the daily fetch writes 500 at once)."""
        changed: dict[str, int] = {}
        conn = self.db.conn
        with self.db.atomic():
            ends = column_ends(conn, list(frames))
            for symbol, frame in frames.items():
                changed[symbol] = self._upsert(symbol, frame, ends.get(symbol), through)
            if any(changed.values()):
                self._bump_data_version()
        return changed

    def _upsert(self, symbol: str, frame: pd.DataFrame, column_end: str | None, through: dt.date | None) -> int:
        """Write one symbol's rows; a change to a day its stored column covers drops that column.

        Days after the column's end are read from the rows with it (bot/store/pricecache.py), so the
        daily fetch appends without rewriting 25 years of bytes.
        """
        if frame.empty:
            return 0
        n = len(frame.index)
        close = frame["close"].to_numpy(dtype=float) if "close" in frame else np.full(n, np.nan)
        adj = frame["adj_close"].to_numpy(dtype=float) if "adj_close" in frame else np.full(n, np.nan)
        dates = np.datetime_as_string(pd.DatetimeIndex(frame.index).to_numpy().astype("datetime64[D]"))
        guard_prices(symbol, dates, close, adj, through)  # nothing stored can crash or silence a later check
        rows = [
            (symbol, str(d), None if np.isnan(c) else float(c), None if np.isnan(a) else float(a))
            for d, c, a in zip(dates, close, adj, strict=True)
            if not (np.isnan(c) and np.isnan(a))
        ]
        conn = self.db.conn
        covered = [r for r in rows if column_end is not None and r[1] <= column_end]
        revised = 0
        if covered:
            before = conn.total_changes
            conn.executemany(UPSERT_PRICE, covered)
            revised = conn.total_changes - before
            if revised:  # a revised or inserted old day: the column is rebuilt from the rows on next read
                drop_column(conn, symbol)
        before = conn.total_changes
        conn.executemany(UPSERT_PRICE, [r for r in rows if column_end is None or r[1] > column_end])
        return revised + conn.total_changes - before

    def with_closes(self, symbols: Iterable[str]) -> set[str]:
        """The symbols whose stored history has a close (not only adj_close): a row without one is refused."""
        sql = (
            "SELECT s.value FROM json_each(?) AS s"
            " WHERE EXISTS (SELECT 1 FROM prices WHERE symbol = s.value AND close IS NOT NULL)"
        )
        return {r[0] for r in self.db.execute(sql, [json.dumps(sorted(set(symbols)))]).fetchall()}

    def symbols(self) -> list[str]:
        """Every stored symbol, in order: one index seek each (``DISTINCT`` read all 2 million rows, 0.5 s)."""
        return [r[0] for r in self.db.execute(SYMBOLS).fetchall() if r[0] is not None]

    def last_dates(self, symbols: Iterable[str] | None = None) -> dict[str, dt.date]:
        """The last stored date per symbol (what an incremental fetch starts after)."""
        return self._edge_dates("MAX", symbols)

    def first_dates(self, symbols: Iterable[str] | None = None) -> dict[str, dt.date]:
        """The first stored date per symbol."""
        return self._edge_dates("MIN", symbols)

    def _edge_dates(self, fn: str, symbols: Iterable[str] | None) -> dict[str, dt.date]:
        # One index seek per symbol; ``GROUP BY symbol`` would walk every row of every symbol.
        if symbols is None:
            symbols = self.symbols()
        sql = f"SELECT s.value, (SELECT {fn}(date) FROM prices WHERE symbol = s.value) FROM json_each(?) AS s"
        rows = self.db.execute(sql, [json.dumps(sorted(set(symbols)))]).fetchall()
        return {sym: read_back(dt.date.fromisoformat, d) for sym, d in rows if d is not None}

    def closes_before(self, spans: Mapping[str, tuple[dt.date, dt.date]]) -> dict[str, float]:
        """Per symbol, its last close (adj_close where close is missing) on or after ``lo`` and before ``hi``."""
        pairs = [[s, lo.isoformat(), hi.isoformat()] for s, (lo, hi) in spans.items()]
        rows = self.db.execute(
            """SELECT json_extract(p.value, '$[0]'), (
                SELECT COALESCE(close, adj_close) FROM prices
                WHERE symbol = json_extract(p.value, '$[0]') AND date >= json_extract(p.value, '$[1]')
                  AND date < json_extract(p.value, '$[2]') AND COALESCE(close, adj_close) IS NOT NULL
                ORDER BY date DESC LIMIT 1)
            FROM json_each(?) AS p""",
            [json.dumps(pairs)],
        ).fetchall()
        return {s: read_back(float, v) for s, v in rows if v is not None}

    def latest_date(self, symbols: Sequence[str] | None = None) -> dt.date | None:
        dates = self.last_dates(symbols)
        return max(dates.values()) if dates else None

    def first_price_date(self) -> dt.date | None:
        row = self.db.execute("SELECT MIN(date) FROM prices").fetchone()
        return read_back(dt.date.fromisoformat, row[0]) if row and row[0] else None

    def count_prices(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM prices").fetchone()[0])

    def load_prices(
        self,
        symbols: Iterable[str],
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Wide frames (date × symbol) of ``close`` and ``adj_close``, each falling back to the other.

        ``close`` is split-adjusted only, ``adj_close`` also dividend-adjusted; where a source has
        just one (index files lack adj_close, ETF files lack close) both frames use what exists.
        Reads go through a per-symbol cache valid for the current ``data_version`` (see
        bot/store/pricecache.py), so a long-running bot reads each row from SQLite once.
        """
        cache = self._price_cache
        if cache is None:
            cache = self._price_cache = PriceCache()
        lo = start.isoformat() if start else None
        hi = end.isoformat() if end else None
        columns = cache.columns(self.db.conn, self.data_version(), sorted(set(symbols)), lo, hi)
        return wide_frames(columns)

    # --- universes -----------------------------------------------------------------------------

    def set_universe(
        self, universe: str, members: Sequence[Mapping[str, Any]], source: str, replace: bool = True
    ) -> int:
        """Replace a universe's member list (symbol, optional name and sector); ``replace=False`` only adds
        and updates, for a list known to be incomplete (a file with refused rows)."""
        for m in members:
            guard_member(universe, m)
        with self.db.atomic():
            if replace:
                self.db.execute("DELETE FROM universe_members WHERE universe = ?", [universe])
            self.db.table("universe_members").insert_all(
                (
                    {
                        "universe": universe,
                        "symbol": m["symbol"],
                        "name": m.get("name"),
                        "sector": m.get("sector"),
                        "source": source,
                    }
                    for m in members
                ),
                pk=("universe", "symbol"),
                replace=True,
            )
            self._bump_data_version()
        return len(members)

    def universe(self, universe: str) -> tuple[str, ...]:
        rows = self.db.execute(
            "SELECT symbol FROM universe_members WHERE universe = ? ORDER BY symbol", [universe]
        ).fetchall()
        return tuple(r[0] for r in rows)

    def set_membership(self, universe: str, spans: Sequence[tuple[str, str, str | None]], replace: bool = True) -> int:
        """Replace a universe's point-in-time membership spans (symbol, ISO start, ISO end or None);
        ``replace=False`` only adds and updates, for a list known to be incomplete."""
        for span in spans:
            guard_span(universe, span)
        with self.db.atomic():
            if replace:
                self.db.execute("DELETE FROM membership WHERE universe = ?", [universe])
            self.db.table("membership").insert_all(
                ({"universe": universe, "symbol": s, "start": a, "end": b} for s, a, b in spans),
                pk=("universe", "symbol", "start"),
                replace=True,
            )
            self._bump_data_version()
        return len(spans)

    def membership_spans(self, universe: str) -> list[tuple[str, str, str | None]]:
        rows = self.db.execute(
            'SELECT symbol, start, "end" FROM membership WHERE universe = ? ORDER BY symbol, start', [universe]
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # --- rule state and alerts -----------------------------------------------------------------

    def load_states(self) -> dict[str, RuleState]:
        rows = self.db.execute("SELECT rule, state FROM rule_state").fetchall()
        return {r[0]: RuleState.from_dict(json.loads(r[1])) for r in rows}

    def save_states(self, states: Mapping[str, RuleState]) -> None:
        now = utcnow()
        self.db.table("rule_state").upsert_all(
            ({"rule": k, "state": json.dumps(v.to_dict()), "updated_at": now} for k, v in states.items()),
            pk="rule",
        )

    def record_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Insert alerts not seen before; returns only the new ones (a re-run alerts nothing twice)."""
        new = []
        now = utcnow()
        for a in alerts:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO alerts (key, rule, date, kind, value, message, payload, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [a.key, a.rule, a.date.isoformat(), a.kind, a.value, a.message, json.dumps(a.to_dict()), now],
            )
            if cur.rowcount:
                new.append(a)
        return new

    def alert_exists(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM alerts WHERE key = ?", [key]).fetchone() is not None

    def alerts_on(self, day: dt.date) -> list[dict[str, Any]]:
        """The alerts recorded for ``day``, in the order they were recorded."""
        rows = self.db.execute(
            "SELECT payload FROM alerts WHERE date = ? ORDER BY created_at, rule", [day.isoformat()]
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def recent_alerts(self, limit: int = 10, rule: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT payload FROM alerts"
        params: list[Any] = []
        if rule:
            sql += " WHERE rule = ?"
            params.append(rule)
        sql += " ORDER BY date DESC, created_at DESC LIMIT ?"
        params.append(limit)
        return [json.loads(r[0]) for r in self.db.execute(sql, params).fetchall()]

    # --- runs and sources ----------------------------------------------------------------------

    def start_run(self, kind: str) -> int:
        table = self.db.table("runs").insert({"kind": kind, "started_at": utcnow(), "status": "running"})
        return int(table.last_pk or 0)

    def finish_run(self, run_id: int, status: str, detail: str = "") -> None:
        self.db.table("runs").update(run_id, {"finished_at": utcnow(), "status": status, "detail": detail})

    def last_run(self, kind: str | None = None, status: str | None = None) -> dict[str, Any] | None:
        sql = "SELECT id, kind, started_at, finished_at, status, detail FROM runs"
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if status:
            where.append("status = ?")
            params.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        row = self.db.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "kind", "started_at", "finished_at", "status", "detail"), row, strict=True))

    def mark_source(
        self,
        source: str,
        ok: bool,
        error: str | None = None,
        last_data_date: dt.date | None = None,
        next_retry: str | None = None,
    ) -> None:
        now = utcnow()
        row: dict[str, Any] = {"source": source, "last_attempt": now, "last_error": error, "next_retry": next_retry}
        if ok:
            row["last_success"] = now
        if last_data_date:
            row["last_data_date"] = last_data_date.isoformat()
        self.db.table("source_status").upsert(row, pk="source")

    def set_next_retry(self, source: str, when: str) -> None:
        self.db.execute("UPDATE source_status SET next_retry = ? WHERE source = ?", [when, source])

    def source_status(self) -> list[dict[str, Any]]:
        return list(self.db.table("source_status").rows)

    # --- track-record cache (bot/market/track.py) -----------------------------------------------

    def cached_track(self, rule: str, rule_hash: str, data_version: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT payload FROM track_cache WHERE rule = ? AND rule_hash = ? AND data_version = ?",
            [rule, rule_hash, data_version],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_track(self, rule: str, rule_hash: str, data_version: int, payload: Mapping[str, Any]) -> None:
        """Keep one cached record per rule: the one for its current definition and data."""
        with self.transaction():
            self.db.execute("DELETE FROM track_cache WHERE rule = ?", [rule])
            self.db.execute(
                "INSERT INTO track_cache (rule, rule_hash, data_version, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                [rule, rule_hash, data_version, json.dumps(payload, allow_nan=False), utcnow()],
            )

    def rename_rule(self, old: str, new: str) -> None:
        """A renamed rule keeps its state (no re-firing), the chats that follow it and its silences."""
        self.db.execute("UPDATE OR REPLACE rule_state SET rule = ? WHERE rule = ?", [new, old])
        self.db.execute("DELETE FROM track_cache WHERE rule = ?", [old])
        self.db.execute("UPDATE OR REPLACE silences SET rule = ? WHERE rule = ?", [new, old])
        rows = self.db.execute("SELECT chat_id, rules FROM chat_routes WHERE rules IS NOT NULL").fetchall()
        for chat_id, rules in rows:
            names = json.loads(rules)
            if old in names:
                renamed = [new if n == old else n for n in names]
                self.db.execute("UPDATE chat_routes SET rules = ? WHERE chat_id = ?", [json.dumps(renamed), chat_id])
