"""The SQLite store (sqlite-utils, WAL): prices, reference data, rule state and alert history.

One file holds everything the bot knows, so a restart picks up exactly where it stopped. Writes
are idempotent upserts keyed on natural keys ((symbol, date) for prices, (rule, date, kind) for
alerts), which is what makes re-running a fetch or a check harmless.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlite_utils import Database

from bot.errors import StoreError
from bot.migrations import migrations
from rules import Alert, RuleState


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """Typed access to the bot's SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the store {self.path}: {exc}") from exc
        try:
            self.db = Database(str(path))
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            migrations.apply(self.db)
        except Exception as exc:  # sqlite3.DatabaseError and friends: a corrupt or foreign file
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # --- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.table("meta").upsert({"key": key, "value": value}, pk="key")

    def data_version(self) -> int:
        return int(self.get_meta("data_version", "0") or 0)

    def _bump_data_version(self) -> None:
        """One statement, no read: a fetch of 503 symbols calls this once per symbol."""
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key)"
            " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
        )

    # --- prices --------------------------------------------------------------------------------

    def upsert_prices(self, symbol: str, frame: pd.DataFrame) -> int:
        """Store one symbol's daily rows (index: dates; columns close and/or adj_close).

        Returns how many rows were new or changed; unchanged rows cost nothing, so re-running a
        fetch adds 0.
        """
        if frame.empty:
            return 0
        close = frame["close"] if "close" in frame else pd.Series(np.nan, index=frame.index)
        adj = frame["adj_close"] if "adj_close" in frame else pd.Series(np.nan, index=frame.index)
        dates = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
        rows = [
            (symbol, d, None if np.isnan(c) else float(c), None if np.isnan(a) else float(a))
            for d, c, a in zip(dates, close.to_numpy(dtype=float), adj.to_numpy(dtype=float), strict=True)
            if not (np.isnan(c) and np.isnan(a))
        ]
        if not rows:
            return 0
        conn = self.db.conn
        before = conn.total_changes
        with self.db.atomic():
            conn.executemany(
                """INSERT INTO prices (symbol, date, close, adj_close) VALUES (?, ?, ?, ?)
                ON CONFLICT (symbol, date) DO UPDATE SET close = excluded.close, adj_close = excluded.adj_close
                WHERE prices.close IS NOT excluded.close OR prices.adj_close IS NOT excluded.adj_close""",
                rows,
            )
            changed = conn.total_changes - before
            if changed:
                conn.execute("DELETE FROM price_columns WHERE symbol = ?", [symbol])
                self._bump_data_version()
        return changed

    def symbols(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT symbol FROM prices ORDER BY symbol").fetchall()]

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
        return {sym: dt.date.fromisoformat(d) for sym, d in rows if d is not None}

    def latest_date(self, symbols: Sequence[str] | None = None) -> dt.date | None:
        dates = self.last_dates(symbols)
        return max(dates.values()) if dates else None

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
        bot/pricecache.py), so a long-running bot reads each row from SQLite once.
        """
        from bot.pricecache import PriceCache, wide_frames

        cache: PriceCache | None = getattr(self, "_price_cache", None)
        if cache is None:
            cache = self._price_cache = PriceCache()
        lo = start.isoformat() if start else None
        hi = end.isoformat() if end else None
        columns = cache.columns(self.db.conn, self.data_version(), sorted(set(symbols)), lo, hi)
        return wide_frames(columns)

    # --- universes -----------------------------------------------------------------------------

    def set_universe(self, universe: str, members: Sequence[Mapping[str, Any]], source: str) -> int:
        """Replace a universe's member list (symbol, optional name and sector)."""
        with self.db.atomic():
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

    def set_membership(self, universe: str, spans: Sequence[tuple[str, str, str | None]]) -> int:
        """Replace a universe's point-in-time membership spans (symbol, start, end or None)."""
        with self.db.atomic():
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

    def source_status(self) -> list[dict[str, Any]]:
        return list(self.db.table("source_status").rows)

    # --- CPI -----------------------------------------------------------------------------------

    def upsert_cpi_observations(self, series: str, rows: Sequence[tuple[str, float | None]], vintage: str) -> int:
        """Monthly index levels of one series as known in ``vintage`` ("latest" or an ISO date)."""
        conn = self.db.conn
        before = conn.total_changes
        now = utcnow()
        with self.db.atomic():
            conn.executemany(
                """INSERT INTO cpi_observations (series, month, value, vintage, first_seen) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (series, month, vintage) DO UPDATE SET value = excluded.value
                WHERE cpi_observations.value IS NOT excluded.value""",
                [(series, m, v, vintage, now) for m, v in rows],
            )
            changed = conn.total_changes - before
            if changed:
                self._bump_data_version()
        return changed

    def set_cpi_releases(self, rows: Sequence[tuple[str, str, str]]) -> int:
        """BLS release calendar: (reference month, release date, release time ET)."""
        self.db.table("cpi_releases").upsert_all(
            ({"month": m, "release_date": d, "release_time": t} for m, d, t in rows), pk="month"
        )
        return len(rows)

    def upsert_consensus(self, rows: Sequence[Mapping[str, Any]], source: str) -> int:
        """Consensus forecasts (and, from a calendar file, the first-published actual)."""
        self.db.table("cpi_consensus").upsert_all(
            (
                {
                    "month": r["month"],
                    "measure": r["measure"],
                    "expected": r.get("expected"),
                    "actual": r.get("actual"),
                    "source": source,
                }
                for r in rows
            ),
            pk=("month", "measure"),
        )
        return len(rows)

    def set_consensus_expected(self, month: str, measure: str, expected: float, source: str) -> None:
        """Set one consensus forecast, keeping a first-published ``actual`` already stored for it."""
        with self.db.atomic():
            self.db.execute(
                """INSERT INTO cpi_consensus (month, measure, expected, actual, source) VALUES (?, ?, ?, NULL, ?)
                ON CONFLICT (month, measure) DO UPDATE SET expected = excluded.expected, source = excluded.source""",
                [month, measure, expected, source],
            )

    def cpi_releases(self) -> list[tuple[str, str, str]]:
        """The BLS calendar as (reference month, release date, release time ET), by month."""
        rows = self.db.execute("SELECT month, release_date, release_time FROM cpi_releases ORDER BY month").fetchall()
        return [(r[0], r[1], r[2] or "08:30") for r in rows]
