"""The scheduler's daily job with the digest on, and a check that sends alerts with charts.

1. The daily job as the running bot runs it (``BotScheduler.tick`` at 18:00 New York): the check of a
   new day for every stored symbol (fetched beforehand, yfinance faked at ``download`` as bench_daily
   does, so the fetch's own noise stays out), and the digest queued for four chats on four routes (every
   rule; one rule; every rule named; critical only, which no default rule is), so three route groups
   with rules. Timed from the tick to its end, on a fresh copy of the store each run (the fastest of
   ``RUNS``), against the same job with the digest off.
2. The July 2024 alerts (shared data only): a store checked up to 2024-07-16, then new data as a fetch
   leaves it (so no track record is cached), then ``run_check`` to 2024-07-24 with the bot's sink and a
   subscriber, so each firing gets its track record and chart.

Both count the market-data loads (``Store.load_prices`` calls) a run makes: the digest and the alert
charts should reuse what the check loaded rather than read the store again.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd

from benchmarks import common
from benchmarks.bench_daily import RUNS, NewDay, fetch
from benchmarks.common import Env, Result, env, fmt_time, report
from bot.config import ConfigHolder
from bot.config.settings import Config, parse_config
from bot.jobs.check import run_check
from bot.jobs.notify import notifier
from bot.jobs.scheduler import BotScheduler
from bot.store import chats
from bot.store.db import Store

JULY_FROM, JULY_TO = dt.date(2024, 7, 16), dt.date(2024, 7, 24)


def _config(path: Path, digest: bool) -> Config:
    data: dict[str, Any] = {"store": {"path": str(path)}, "digest": {"enabled": digest}}
    return parse_config(data, path=common.work() / "config.toml")


def _counting(loads: list[int]) -> Callable[[], Any]:
    """Count ``Store.load_prices`` calls (each is one read of market data) while the patch is active."""
    real = Store.load_prices

    def load_prices(self: Store, *args: Any, **kwargs: Any) -> Any:
        loads[-1] += 1
        return real(self, *args, **kwargs)

    return lambda: mock.patch.object(Store, "load_prices", load_prices)


def _prepare(e: Env, path: Path) -> NewDay:
    """A warm copy (checked twice) with four subscribers on four routes and the new day fetched; the CPI slot
    marked done."""
    common.copy_store(e.path, path)
    config = _config(path, digest=False)
    store = Store(path)
    try:
        run_check(store, config)
        run_check(store, config)
        first = config.rules[0].name
        chats.subscribe(store, 1)
        chats.subscribe(store, 2, chats.Route((first,)))
        chats.subscribe(store, 3, chats.Route(tuple(r.name for r in config.rules)))
        chats.subscribe(store, 4, chats.Route(None, "critical"))
        store.set_meta("scheduler.cpi.done", "9999")  # the CPI job (FRED) is not what is measured
        new_day = NewDay(store)
        fetch(store, config, new_day, [])
    finally:
        store.close()
    return new_day


def _daily_job(prepared: Path, work: Path, new_day: NewDay, digest: bool, loads: list[int]) -> float:
    path = work / "run.sqlite"
    times = []
    patch = _counting(loads)
    for _ in range(RUNS):
        common.copy_store(prepared, path)
        config = _config(path, digest)
        holder = ConfigHolder(config, path=common.work() / "config.toml")
        job = BotScheduler(
            holder,
            now=lambda: new_day.now,
            fetch_prices=lambda s, c: None,  # fetched while preparing
            fetch_cpi=lambda s, c: None,
        )
        loads.append(0)
        with patch():
            t0 = time.perf_counter()
            lines = job.tick()
            times.append(time.perf_counter() - t0)
        assert lines and "failed" not in lines[0], lines
        common.remove_store(path)
    return min(times)


def _july(e: Env, work: Path, with_sink: bool = True) -> tuple[float, int, int]:
    """Seconds, alerts and market-data loads of the July 2024 check, with the bot's sink (each alert queued
    with its track record and chart) or, as the baseline, without one (the alerts recorded only)."""
    path = work / "july.sqlite"
    times, loads, alerts = [], [0], 0
    patch = _counting(loads)
    for _ in range(RUNS):
        common.copy_store(e.path, path)
        config = _config(path, digest=False)
        store = Store(path)
        try:
            run_check(store, config, as_of=JULY_FROM)
            chats.subscribe(store, 1)
            _new_data(store)
            loads[-1] = 0
            with patch():
                t0 = time.perf_counter()
                checked = run_check(store, config, as_of=JULY_TO, sink=notifier(config) if with_sink else None)
                times.append(time.perf_counter() - t0)
            alerts = len(checked.alerts)
        finally:
            store.close()
        common.remove_store(path)
    return min(times), alerts, loads[-1]


def _new_data(store: Store) -> None:
    """What the daily fetch leaves for the check that follows it: a new data version, so the track records
    (cached per version) are computed again, as for every alerting check of the running bot."""
    store.upsert_prices("BENCH-FETCH", pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex([JULY_TO])))


def run() -> Result:
    e = env()
    work = Path(tempfile.mkdtemp(dir=common.work(), prefix="digest-"))
    try:
        prepared = work / "prepared.sqlite"
        new_day = _prepare(e, prepared)
        plain_loads: list[int] = []
        with_loads: list[int] = []
        plain = _daily_job(prepared, work, new_day, False, plain_loads)
        with_digest = _daily_job(prepared, work, new_day, True, with_loads)
        july = (_july(e, work), _july(e, work, with_sink=False)) if e.kind == "shared data" else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = report(
        Result(
            "daily job: check + digest (3 route groups)",
            fmt_time(with_digest),
            f"{fmt_time(plain)} (the same job, digest off)",
            f"{with_digest / plain:.2f}×",
            "",
            True,
            f"fastest of {RUNS} scheduler ticks (check, digest); market-data loads "
            f"{with_loads[-1]} (digest off: {plain_loads[-1]}) ({e.kind})",
        )
    )
    if july is not None:
        (seconds, alerts, loads), (bare, _, bare_loads) = july
        result = report(
            Result(
                "check sending the July 2024 alerts",
                fmt_time(seconds),
                f"{fmt_time(bare)} (the same check, alerts recorded without track record or chart)",
                f"{seconds / bare:.1f}×",
                "",
                True,
                f"{JULY_FROM}→{JULY_TO}, {alerts} new alerts with track record and chart, "
                f"fastest of {RUNS}; market-data loads {loads} (without: {bare_loads}) ({e.kind})",
            )
        )
    return result


if __name__ == "__main__":
    run()
