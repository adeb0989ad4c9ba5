"""Per-symbol price columns, persisted as numpy bytes and kept in memory while ``data_version`` holds.

Loading history is the expensive part of a check, a replay or a chart: Python's sqlite3 builds an
object per value, about 0.5 µs each, so 25 years of 500 members cost over a second. So each
symbol's whole history is also stored as one row of numpy bytes (table ``price_columns``), written
the first time it is read. Days written after the column's last day (the daily fetch) are read from
the price rows with it, an index seek of a few rows, until TAIL_ROWS of them make it worth
rewriting; a change to a day the column covers deletes it, to be rebuilt on the next read. So a new
process reads 500 such rows in milliseconds instead of two million price rows, and the first check
after the daily fetch does too, without the fetch rewriting 25 years of bytes. On top, a
long-running bot keeps the arrays in memory and slices them for later requests; any price write
bumps ``data_version``, which empties that cache, so a cached read always equals a fresh one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.store.faults import read_back

# A stored column is rewritten once this many days have been written after it (read from the rows until then).
TAIL_ROWS = 60

Days = npt.NDArray[np.datetime64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Span:
    """One symbol's rows for the dates ``lo``..``hi`` (ISO strings; None means unbounded)."""

    lo: str | None
    hi: str | None
    days: Days
    close: Floats
    adj: Floats

    def covers(self, lo: str | None, hi: str | None) -> bool:
        return (self.lo is None or (lo is not None and self.lo <= lo)) and (
            self.hi is None or (hi is not None and self.hi >= hi)
        )

    def clip(self, lo: str | None, hi: str | None) -> tuple[Days, Floats, Floats]:
        a = 0 if lo is None else int(np.searchsorted(self.days, np.datetime64(lo, "D"), side="left"))
        b = len(self.days) if hi is None else int(np.searchsorted(self.days, np.datetime64(hi, "D"), side="right"))
        return self.days[a:b], self.close[a:b], self.adj[a:b]


def _rows(rows: Sequence[tuple[Any, Any, Any]]) -> tuple[Days, Floats, Floats]:
    """Price rows (date, close, adj_close) as arrays; a None price becomes NaN."""
    if not rows:
        return np.array([], dtype="datetime64[D]"), np.array([], dtype=float), np.array([], dtype=float)
    dates, closes, adjs = zip(*rows, strict=True)
    return np.array(dates, dtype="datetime64[D]"), np.array(closes, dtype=float), np.array(adjs, dtype=float)


def _blobs(row: tuple[bytes, bytes, bytes]) -> tuple[Days, Floats, Floats]:
    """A stored column's three blobs as arrays (of one length, or the blobs are not what was written)."""
    days = np.frombuffer(row[0], dtype=np.int64).astype("datetime64[D]")
    close, adj = np.frombuffer(row[1], dtype=float), np.frombuffer(row[2], dtype=float)
    if not len(days) == len(close) == len(adj):
        raise ValueError("columns of different lengths")
    return days, close, adj


def _union(span: Span, lo: str | None, hi: str | None) -> tuple[str | None, str | None]:
    """The smallest range covering both the cached span and the request (None: unbounded)."""
    return (
        None if span.lo is None or lo is None else min(span.lo, lo),
        None if span.hi is None or hi is None else max(span.hi, hi),
    )


class PriceCache:
    """Thread-safe cache of ``Span`` per symbol for one data version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._spans: dict[str, Span] = {}

    def _read(self, conn: sqlite3.Connection, symbol: str, lo: str | None, hi: str | None) -> Span:
        """The symbol's whole history (from its stored column, else from the rows, then stored)."""
        row = conn.execute("SELECT days, close, adj_close FROM price_columns WHERE symbol = ?", [symbol]).fetchone()
        if row is not None:
            days, close, adj = read_back(_blobs, row)
            tail = conn.execute(  # the days written since the column was stored: an index seek, a few rows
                "SELECT date, close, adj_close FROM prices WHERE symbol = ? AND date > ? ORDER BY date",
                [symbol, str(days[-1]) if len(days) else ""],
            ).fetchall()
            if len(tail) <= TAIL_ROWS:
                t_days, t_close, t_adj = read_back(_rows, tail)
                return Span(
                    None,
                    None,
                    np.concatenate([days, t_days]),
                    np.concatenate([close, t_close]),
                    np.concatenate([adj, t_adj]),
                )
        rows = conn.execute(
            "SELECT date, close, adj_close FROM prices WHERE symbol = ? ORDER BY date", [symbol]
        ).fetchall()
        span = Span(None, None, *read_back(_rows, rows))
        if rows and not conn.in_transaction:  # never commit someone else's transaction; store it next time instead
            try:
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO price_columns (symbol, days, close, adj_close) VALUES (?, ?, ?, ?)",
                        [symbol, span.days.astype(np.int64).tobytes(), span.close.tobytes(), span.adj.tobytes()],
                    )
            except sqlite3.OperationalError:  # a read-only or busy store: the column is rebuilt next time
                pass
        return span

    def columns(
        self, conn: sqlite3.Connection, version: int, symbols: Sequence[str], lo: str | None, hi: str | None
    ) -> dict[str, tuple[Days, Floats, Floats]]:
        """Each symbol's (days, close, adj_close) between ``lo`` and ``hi`` inclusive."""
        out: dict[str, tuple[Days, Floats, Floats]] = {}
        with self._lock:
            if version != self._version:
                self._spans.clear()
                self._version = version
            for symbol in symbols:
                span = self._spans.get(symbol)
                if span is None or not span.covers(lo, hi):
                    a, b = (lo, hi) if span is None else _union(span, lo, hi)
                    span = self._read(conn, symbol, a, b)
                    self._spans[symbol] = span
                days, close, adj = span.clip(lo, hi)
                if len(days):
                    out[symbol] = (days, close, adj)
        return out


def column_ends(conn: sqlite3.Connection, symbols: Sequence[str]) -> dict[str, str]:
    """The last day (ISO) each symbol's stored column covers; read from the blob's last 8 bytes, one query."""
    rows = conn.execute(
        "SELECT symbol, substr(days, -8) FROM price_columns WHERE symbol IN (SELECT value FROM json_each(?))",
        [json.dumps(list(symbols))],
    ).fetchall()
    out = {}
    for symbol, tail in rows:
        if tail:
            out[symbol] = read_back(_last_day, tail)
    return out


def _last_day(tail: bytes) -> str:
    return str(np.frombuffer(tail, dtype=np.int64).astype("datetime64[D]")[0])


def drop_column(conn: sqlite3.Connection, symbol: str) -> None:
    conn.execute("DELETE FROM price_columns WHERE symbol = ?", [symbol])


def wide_frames(columns: dict[str, tuple[Days, Floats, Floats]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Date × symbol frames of close and adj_close, each falling back to the other where missing."""
    names = sorted(columns)
    if not names:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
        return empty, empty.copy()
    all_days = np.unique(np.concatenate([columns[s][0] for s in names]))
    close = np.full((len(all_days), len(names)), np.nan)
    adj = np.full((len(all_days), len(names)), np.nan)
    for j, s in enumerate(names):
        days, c, a = columns[s]
        rows = np.searchsorted(all_days, days)
        close[rows, j] = c
        adj[rows, j] = a
    # Fill each from the other in place (no temporaries: these arrays are the bulk of a replay's memory).
    no_adj = np.isnan(adj)
    np.copyto(adj, close, where=no_adj & ~np.isnan(close))
    np.copyto(close, adj, where=np.isnan(close))
    del no_adj
    index = pd.DatetimeIndex(all_days.astype("datetime64[us]"), name="date")
    cols = pd.Index(names, name="symbol")
    return (
        pd.DataFrame(close, index=index, columns=cols, copy=False),
        pd.DataFrame(adj, index=index, columns=cols, copy=False),
    )
