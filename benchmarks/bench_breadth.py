"""Breadth through the rule engine vs a raw numpy cumulative-sum rolling mean on the same array."""

from __future__ import annotations

import numpy as np

from benchmarks.common import Result, best_of, env, fmt_time, report
from bot.market.data import load_market_data
from rules.engine import compute
from rules.model import load_rules

WINDOW = 200
GOAL = 3.0


def raw_breadth(values: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The floor: % of columns above their trailing mean, NaN treated as 0, no gap handling."""
    csum = np.cumsum(np.nan_to_num(values), axis=0)
    csum = np.vstack([np.zeros((1, values.shape[1])), csum])
    sma = (csum[window:] - csum[:-window]) / window
    above = values[window - 1 :] > sma
    return np.asarray(above.mean(axis=1) * 100.0)


def run() -> Result:
    e = env()
    table = {"name": "b", "metric": "breadth", "universe": "sp500", "window": WINDOW}
    rule = load_rules([{**table, "condition": "above", "threshold": 50}])[0]
    store = e.open()
    try:
        data = load_market_data(store, e.config(), [rule])
    finally:
        store.close()
    members = [m for m in data.members("sp500") if m in data.close.columns]
    array = data.close[members].to_numpy(dtype=float)
    engine = best_of(lambda: compute(rule, data))
    raw = best_of(lambda: raw_breadth(array))
    ratio = engine / raw
    return report(
        Result(
            "breadth",
            fmt_time(engine),
            f"{fmt_time(raw)} (numpy cumsum)",
            f"{ratio:.1f}×",
            f"goal ≤ {GOAL:g}×",
            ratio <= GOAL,
            f"{array.shape[1]} members × {array.shape[0]} days ({e.kind})",
        )
    )
