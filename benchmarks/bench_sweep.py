"""A 20-value threshold sweep of the ratio rule over 25 years, against 20 separate replays of the same variants.

The sweep (``rotation-bot whatif … --sweep``) loads the data once, computes the shared metric once and tracks
every variant from one price load; the baseline replays each variant as ``rotation-bot replay`` would, one by one.
"""

from __future__ import annotations

import time

from benchmarks.common import Result, best_of, env, fmt_time, report
from bot.config import find_rule
from bot.market.replay import default_as_of, run_replay
from bot.market.whatif import edited, sweep, sweep_axis
from bot.store.db import Store

GOAL = 2.0
RULE = "rut-spx-above-0.4"
YEARS = 25
AXIS = "threshold=0.35:0.445:0.005"  # 20 values


def run() -> Result:
    e = env()
    config = e.config()
    store = Store(e.path)
    try:
        rule = find_rule(config, RULE)
        end = default_as_of(store, [rule])
        start = end.replace(year=end.year - YEARS)
        axis = sweep_axis(AXIS)
        run_replay(store, config, start, rule_names=[RULE])  # the store's price columns read once, as in a bot

        def one_sweep() -> None:
            sweep(store, config, rule, [axis], start)

        def separate_replays() -> None:
            for value in axis[1]:
                variant = edited(rule, {axis[0]: value}, "bench")
                run_replay(store, config.__class__(config.settings, [variant], config.path), start)

        fast = best_of(one_sweep)
        t0 = time.perf_counter()
        separate_replays()
        slow = time.perf_counter() - t0
        n = len(axis[1])
    finally:
        store.close()
    return report(
        Result(
            "whatif sweep",
            fmt_time(fast),
            f"{fmt_time(slow)} ({n} separate replays)",
            f"{slow / fast:.1f}× faster",
            f"goal < {GOAL:g} s",
            fast < GOAL,
            f"{n} thresholds of {RULE} over {YEARS} years ({start}→{end}), replayed and tracked ({e.kind})",
        )
    )
