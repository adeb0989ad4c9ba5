"""The /ratio handler's query from the store (bot.queries.ratio_view when present)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from benchmarks.common import Result, best_of, env, fmt_time, report
from bot.config.settings import Config
from bot.store.db import Store
from rules import MarketData
from rules.metrics import ratio_series

GOAL = 0.050


def _query() -> tuple[Callable[[Store, Config], object], str]:
    try:
        from bot.answers.views import ratio_view
    except ImportError:

        def store_read(store: Store, config: Config) -> object:
            latest = store.latest_date(["^RUT", "^GSPC"])
            assert latest is not None
            close, adj = store.load_prices(["^RUT", "^GSPC"], start=latest - dt.timedelta(days=366))
            return ratio_series(MarketData(close=close, adj_close=adj), "^RUT", "^GSPC", "close")

        return store_read, "bot.answers.views has no ratio_view yet: timed the equivalent store read + ratio"
    return ratio_view, "bot.queries.ratio_view"


def run() -> Result:
    e = env()
    config = e.config()
    fn, what = _query()
    store = e.open()
    try:
        t0 = time.perf_counter()
        fn(store, config)  # first call on a freshly opened store
        first = time.perf_counter() - t0
        warm = best_of(lambda: fn(store, config), repeat=20)
    finally:
        store.close()
    return report(
        Result(
            "/ratio query",
            fmt_time(first),
            f"{GOAL * 1000:g} ms goal",
            f"{first / GOAL:.2f}",
            f"goal < {GOAL * 1000:g} ms",
            first < GOAL,
            f"{what}; first call on a fresh Store, repeated calls {fmt_time(warm)} ({e.kind})",
        )
    )
