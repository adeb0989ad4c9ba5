"""The daily incremental update of the 503 members: source calls made, and rows read from SQLite.

``yfinance.download`` is replaced at its public boundary by a fake (benchmarks.common.fake_download)
that answers every business day since the call's start up to the day after the latest close, each
ticker flat, in yfinance 1.x's shape (MultiIndex columns Price × Ticker), so the real fetch job
(bot.ingest.fetch) runs unchanged and offline.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pandas as pd

from benchmarks import common
from benchmarks.common import Result, env, fake_download, fmt_time, remove_store, report
from bot.store.db import Store

GOAL_CALLS = 6


def flat_quotes(last_close: dict[str, float], until: dt.date) -> Callable[[str, dt.date], pd.DataFrame]:
    """Every business day from the call's start to ``until``, each symbol flat at its last close."""

    def quote(symbol: str, start: dt.date) -> pd.DataFrame:
        days = pd.bdate_range(pd.Timestamp(start), pd.Timestamp(until))
        price = last_close.get(symbol, 100.0)
        return pd.DataFrame({"close": price, "adj_close": price}, index=days)

    return quote


class CountingCursor:
    """Counts the rows a cursor hands to Python."""

    def __init__(self, cursor: sqlite3.Cursor, counter: dict[str, int]) -> None:
        self._cursor = cursor
        self._counter = counter

    def fetchall(self) -> list[Any]:
        rows = self._cursor.fetchall()
        self._counter["rows"] += len(rows)
        return rows

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        self._counter["rows"] += row is not None
        return row

    def __iter__(self) -> Iterator[Any]:
        for row in self._cursor:
            self._counter["rows"] += 1
            yield row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class CountingConnection:
    """Delegates to a sqlite3 connection, counting SELECT statements and the rows they return."""

    def __init__(self, conn: sqlite3.Connection, counter: dict[str, int]) -> None:
        self._conn = conn
        self._counter = counter

    def execute(self, sql: str, *args: Any) -> Any:
        cur = self._conn.execute(sql, *args)
        if sql.lstrip().upper().startswith("SELECT"):
            self._counter["selects"] += 1
            return CountingCursor(cur, self._counter)
        return cur

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextmanager
def counting(store: Store) -> Iterator[dict[str, int]]:
    counter = {"rows": 0, "selects": 0}
    original = store.db.conn
    store.db.conn = CountingConnection(original, counter)  # type: ignore[assignment]
    try:
        yield counter
    finally:
        store.db.conn = original


def _measure() -> Result:
    try:
        from bot.ingest.fetch import fetch_yahoo
        from bot.ingest.sources.yahoo import YahooSource
    except ImportError as exc:
        return report(
            Result("incremental update", "-", "-", "-", f"goal ≤ {GOAL_CALLS} calls", False, f"skipped: {exc}")
        )
    e = env()
    path = common.work() / "incremental.sqlite"
    shutil.copyfile(e.path, path)
    for suffix in ("-wal", "-shm"):
        (common.work() / f"incremental.sqlite{suffix}").unlink(missing_ok=True)
    store = Store(path)
    try:
        members = list(store.universe("sp500"))
        last = max(store.last_dates(members).values())
        next_day = (pd.Timestamp(last) + pd.offsets.BDay(1)).date()
        now = dt.datetime.combine(next_day, dt.time(18, 0), ZoneInfo("America/New_York"))
        config = e.config(store_path=path, symbols=[])
        source = YahooSource(batch_size=config.settings.data.batch_size, retries=0, now=lambda: now, threads=False)
        calls: list[tuple[int, str]] = []
        close, _ = store.load_prices(members)
        last_close = {sym: float(close[sym].dropna().iloc[-1]) for sym in close.columns}
        before = store.count_prices()
        with (
            mock.patch("yfinance.download", fake_download(calls, flat_quotes(last_close, next_day))),
            counting(store) as counter,
        ):
            t0 = time.perf_counter()
            fetch = fetch_yahoo(store, config, members, source=source, now=lambda: now)
            seconds = time.perf_counter() - t0
        added = store.count_prices() - before
        current = sum(1 for d in store.last_dates(members).values() if d == next_day)
    finally:
        store.close()
    n = len(calls)
    return report(
        Result(
            "incremental update",
            f"{n} source calls",
            f"{len(members)} tickers",
            f"{len(members) / max(n, 1):.0f} tickers/call",
            f"goal ≤ {GOAL_CALLS} calls",
            n <= GOAL_CALLS and current == len(members) and not fetch.failures,
            f"{counter['rows']} rows read from SQLite by {counter['selects']} SELECTs, {added} rows added, "
            f"{current} of {len(members)} members current, "
            f"{fmt_time(seconds)} ({e.kind})",
        )
    )


def run() -> Result:
    try:
        return _measure()
    finally:
        remove_store(common.work() / "incremental.sqlite")  # a 130 MB copy: not left in the temp folder
