"""The /ratio handler's query from the store (bot.answers.views.ratio_view)."""

from __future__ import annotations

import time

from benchmarks.common import Result, best_of, env, fmt_time, report
from bot.answers.views import ratio_view

GOAL = 0.050


def run() -> Result:
    e = env()
    config = e.config()
    store = e.open()
    try:
        t0 = time.perf_counter()
        ratio_view(store, config)  # first call on a freshly opened store
        first = time.perf_counter() - t0
        warm = best_of(lambda: ratio_view(store, config), repeat=20)
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
            f"ratio_view; first call on a fresh Store, repeated calls {fmt_time(warm)} ({e.kind})",
        )
    )
