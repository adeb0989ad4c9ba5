"""The daily path end to end, in one process: one new trading day for every stored symbol is fetched,
then the rules are checked.

The store holds all the benchmark data and has been checked (and replayed) once, so it is warm.
Then ``yfinance.download`` is replaced at its public boundary by a fake answering, for every
requested ticker, one new row on its next NYSE session (a small seeded move from its last close),
in yfinance 1.x's frame shape (benchmarks.common.yahoo_frame); the real fetch job
(``bot.ingest.fetch.fetch_yahoo``, what ``rotation-bot fetch`` runs) stores it, and
``bot.jobs.run_check`` runs with ``bot.jobs.notifier`` as ``rotation-bot check`` does. Timed from
opening the store to closing it (interpreter start-up and imports not included), against a warm
check with nothing new on the same store. Each timed run starts from a fresh copy of the prepared
store. A replay of the default rules over 2000→latest right after such a fetch (the first read of
every changed symbol's history) is timed against the same replay with nothing new.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from benchmarks import common
from benchmarks.common import Env, Result, env, fake_download, fmt_time, report
from bot.calendar import is_trading_day
from bot.config.settings import Config
from bot.ingest.fetch import FetchReport, fetch_yahoo
from bot.ingest.sources.yahoo import YahooSource
from bot.jobs.check import CheckReport, run_check
from bot.jobs.notify import notifier
from bot.market.replay import run_replay
from bot.store.db import Store

RUNS = int(os.environ.get("BENCH_DAILY_RUNS", "3"))
GOAL_BEYOND_STARTUP = 1.0
REPLAY_FROM = dt.date(2000, 1, 1)
NEW_YORK = ZoneInfo("America/New_York")


def next_session(day: dt.date) -> dt.date:
    d = day + dt.timedelta(days=1)
    while not is_trading_day(d):
        d += dt.timedelta(days=1)
    return d


class NewDay:
    """One new row per symbol: its next session, close and adj_close moved by the same small seeded return."""

    def __init__(self, store: Store, seed: int = 7) -> None:
        symbols = store.symbols()
        last = store.last_dates(symbols)
        close, adj = store.load_prices(symbols)
        rng = np.random.default_rng(seed)
        self.rows: dict[str, pd.DataFrame] = {}
        for sym in symbols:
            move = 1 + float(rng.normal(0.0003, 0.01))
            day = pd.DatetimeIndex([pd.Timestamp(next_session(last[sym]))])
            c = float(close[sym].dropna().iloc[-1])
            a = float(adj[sym].dropna().iloc[-1])
            self.rows[sym] = pd.DataFrame({"close": [c * move], "adj_close": [a * move]}, index=day)
        self.symbols = symbols
        latest = max(frame.index[0] for frame in self.rows.values()).date()
        self.now = dt.datetime.combine(latest, dt.time(18, 0), NEW_YORK)  # after the close settled

    def quote(self, symbol: str, start: dt.date) -> pd.DataFrame:
        frame = self.rows[symbol]
        return frame[frame.index >= pd.Timestamp(start)]


def prepare(e: Env, path: Path) -> NewDay:
    """A copy of the benchmark store, checked and replayed once (warm), and the day that will arrive."""
    common.copy_store(e.path, path)
    config = e.config(store_path=path)
    store = Store(path)
    try:
        run_check(store, config, sink=notifier(config))  # the first-ever check: rule states from a year back
        run_check(store, config, sink=notifier(config))
        run_replay(store, config, REPLAY_FROM)
        new_day = NewDay(store)  # reads every symbol, so every stored column exists
    finally:
        store.close()
    return new_day


def fetch(store: Store, config: Config, new_day: NewDay, calls: list[tuple[int, str]]) -> FetchReport:
    data = config.settings.data
    source = YahooSource(data.history_start, data.batch_size, data.retries, now=lambda: new_day.now)
    with mock.patch("yfinance.download", fake_download(calls, new_day.quote)):
        return fetch_yahoo(store, config, new_day.symbols, source=source, now=lambda: new_day.now)


def timed_runs(prepared: Path, work: Path, config: Config, body: Callable[[Store], float | None]) -> list[float]:
    """``body`` on a fresh copy of the prepared store ``RUNS`` times; the time it returns, else its whole time."""
    times = []
    path = work / "run.sqlite"
    for _ in range(RUNS):
        common.copy_store(prepared, path)
        t0 = time.perf_counter()
        store = Store(path)
        try:
            inner = body(store)
        finally:
            store.close()
        times.append(time.perf_counter() - t0 if inner is None else inner)
        common.remove_store(path)
    return times


def run() -> Result:
    e = env()
    work = Path(tempfile.mkdtemp(dir=common.work(), prefix="daily-"))
    try:
        prepared = work / "prepared.sqlite"
        new_day = prepare(e, prepared)
        config = e.config(store_path=work / "run.sqlite")
        fetches: list[FetchReport] = []
        checks: list[CheckReport] = []
        calls: list[tuple[int, str]] = []
        split: list[tuple[float, float]] = []

        def daily(store: Store) -> None:
            t0 = time.perf_counter()
            fetches.append(fetch(store, config, new_day, calls))
            t1 = time.perf_counter()
            checks.append(run_check(store, config, sink=notifier(config)))
            split.append((t1 - t0, time.perf_counter() - t1))

        warm_reports: list[CheckReport] = []

        def warm_check(store: Store) -> None:
            warm_reports.append(run_check(store, config, sink=notifier(config)))

        def replay_after_fetch(store: Store) -> float:
            fetch(store, config, new_day, [])
            t0 = time.perf_counter()
            run_replay(store, config, REPLAY_FROM)
            return time.perf_counter() - t0

        def replay_nothing_new(store: Store) -> float:
            t0 = time.perf_counter()
            run_replay(store, config, REPLAY_FROM)
            return time.perf_counter() - t0

        warm = statistics.median(timed_runs(prepared, work, config, warm_check))
        day = statistics.median(timed_runs(prepared, work, config, daily))
        replay_new = statistics.median(timed_runs(prepared, work, config, replay_after_fetch))
        replay_old = statistics.median(timed_runs(prepared, work, config, replay_nothing_new))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    f, c = fetches[-1], checks[-1]
    fetch_s = statistics.median(s for s, _ in split)
    check_s = statistics.median(s for _, s in split)
    n = len(new_day.symbols)
    fresh = f.rows == n and not f.failures and c.as_of > warm_reports[-1].as_of
    report(
        Result(
            "daily: fetch one day + check",
            fmt_time(day),
            f"{fmt_time(warm)} (warm check, nothing new)",
            f"{day / warm:.1f}×",
            f"goal ≤ {GOAL_BEYOND_STARTUP:g} s beyond start-up",
            fresh and day <= GOAL_BEYOND_STARTUP,
            f"median of {RUNS} in-process runs; fetch {fmt_time(fetch_s)} ({f.rows} rows for {n} symbols, "
            f"{len(calls) // RUNS} calls, {len(f.failures)} failures), check {fmt_time(check_s)} "
            f"(as of {c.as_of}, {len(c.alerts)} new alerts) ({e.kind})",
        )
    )
    return report(
        Result(
            "daily: replay after fetch",
            fmt_time(replay_new),
            f"{fmt_time(replay_old)} (the same replay, nothing new)",
            f"{replay_new / replay_old:.1f}×",
            "",
            True,
            f"default rules {REPLAY_FROM}→latest, median of {RUNS}, on the store right after the fetch ({e.kind})",
        )
    )
