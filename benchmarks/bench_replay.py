"""Replay of the default rules vs a naive day-by-day loop (metrics recomputed on data known each day).

The naive loop is timed on every ``STEP``-th day and extrapolated per day to the whole span, since
running it on every day of 25 years would take many minutes.
"""

from __future__ import annotations

import os
import time

import pandas as pd

from benchmarks.common import Result, best_of, env, fmt_time, report
from bot.market.data import load_market_data
from bot.market.replay import default_as_of, rules_start, run_replay
from rules import MarketData, Rule, RuleError, RuleState, replay, run_rule
from rules.engine import compute

GOAL_SPEEDUP = 50.0
GOAL_SECONDS = 1.0
YEARS = 25
STEP = int(os.environ.get("BENCH_NAIVE_STEP", "50"))


def naive_seconds_per_day(rules: list[Rule], data: MarketData, days: pd.DatetimeIndex) -> float:
    """Per sampled day: every rule's metric on ``data.until(day)``, then one state step."""
    states = {r.name: RuleState() for r in rules}
    sample = days[::STEP]
    t0 = time.perf_counter()
    for ts in sample:
        known = data.until(ts)
        for rule in rules:
            try:
                metric = compute(rule, known)
            except RuleError:  # a metric without enough history yet
                continue
            _, states[rule.name] = run_rule(rule, metric, states[rule.name], ts.date())
    return (time.perf_counter() - t0) / max(1, len(sample))


def run() -> Result:
    e = env()
    config = e.config()
    rules = [r for r in config.rules if r.spec.enabled]
    store = e.open()
    try:
        end = default_as_of(store, rules)
        start = end.replace(year=end.year - YEARS)
        # The same window `rotation-bot replay` loads: a year of warm-up plus the metrics' lookback.
        data = load_market_data(store, config, rules, end=end, start=rules_start(rules, start, warm_up=True))
    finally:
        store.close()
    days = pd.DatetimeIndex(data.close.index[data.close.index >= pd.Timestamp(start)])
    engine = best_of(lambda: replay(rules, data, start, end))
    per_day = naive_seconds_per_day(rules, data, days)
    naive = per_day * len(days)
    speedup = naive / engine
    # End to end through the store, as `rotation-bot replay` runs it: cold (new Store) and warm.
    cold_store = e.open()
    try:
        t0 = time.perf_counter()
        run_replay(cold_store, config, start, end)
        cold = time.perf_counter() - t0
        warm = best_of(lambda: run_replay(cold_store, config, start, end))
    finally:
        cold_store.close()
    return report(
        Result(
            "replay",
            fmt_time(engine),
            f"{fmt_time(naive)} naive (extrapolated from every {STEP}th day, {fmt_time(per_day)}/day)",
            f"{speedup:.0f}× faster",
            f"goal ≥ {GOAL_SPEEDUP:g}× and < {GOAL_SECONDS:g} s",
            speedup >= GOAL_SPEEDUP and engine < GOAL_SECONDS,
            f"{len(rules)} default rules, {len(days)} days {start}→{end} ({e.kind}); end to end with SQLite: "
            f"cold {fmt_time(cold)}, warm {fmt_time(warm)}",
        )
    )
