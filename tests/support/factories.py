"""Factories for test data: configs, one-symbol price frames, MarketData, and small seeded stores."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.config.settings import Config, parse_config
from bot.store.db import Store
from rules import MarketData

Values = Sequence[float | None] | np.ndarray


def make_config(
    tmp_path: Path, extra: dict[str, object] | None = None, rules: list[dict[str, object]] | None = None
) -> Config:
    """A config whose store lives in tmp_path; ``rules`` replaces the default rules."""
    data: dict[str, object] = {"store": {"path": str(tmp_path / "test.sqlite")}}
    if extra:
        data.update(extra)
    if rules is not None:
        data["rules"] = rules
    return parse_config(data, path=tmp_path / "config.toml")


def trading_days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n, name="date")


def price_frame(values: list[float] | np.ndarray, start: str = "2024-01-01") -> pd.DataFrame:
    """A one-symbol frame as sources return it: DatetimeIndex, close and adj_close columns."""
    arr = np.asarray(values, dtype=float)
    idx = trading_days(start, len(arr))
    return pd.DataFrame({"close": arr, "adj_close": arr}, index=idx)


def market(
    columns: Mapping[str, Values] | Values,
    *,
    start: str = "2024-01-01",
    adj_factor: float | None = None,
    **kw: Any,
) -> MarketData:
    """MarketData whose ``close`` is a wide float frame on business days from ``start`` (index named "date").

    ``columns`` maps each symbol to its closes, day by day; a column shorter than the longest is padded
    with NaN at the end, and None is NaN (a day without a close). A bare list of values is a ratio
    pair: symbol "A" with those values over a symbol "B" that is 1.0 every day. A row that is NaN for
    every symbol is a holiday and dropped. With ``adj_factor``, ``adj_close`` is ``close * adj_factor``;
    any other keyword (``universes``, ``membership``, ``cpi``, ``adj_close``) goes to MarketData.
    """
    if not isinstance(columns, Mapping):
        columns = {"A": columns, "B": [1.0] * len(columns)}
    arrays = {k: np.asarray([math.nan if x is None else x for x in v], dtype=float) for k, v in columns.items()}
    n = max(len(a) for a in arrays.values())
    padded = {k: np.concatenate([a, np.full(n - len(a), math.nan)]) for k, a in arrays.items()}
    close = pd.DataFrame(padded, index=trading_days(start, n), dtype=float).dropna(how="all")
    if adj_factor is not None:
        kw["adj_close"] = close * adj_factor
    return MarketData(close=close, **kw)


# --- a store for the daily digest -----------------------------------------------------------------

DIGEST_DAYS = 40


def digest_ratio() -> np.ndarray:
    """AAA / BBB over the DIGEST_DAYS days: 0.45 rising by 0.001 a day."""
    return 0.45 + 0.001 * np.arange(DIGEST_DAYS)


def seed_digest(store: Store, tmp_path: Path) -> tuple[Config, dt.date]:
    """AAA/BBB near 0.5 and CCC (stopped five days early) with three rules; returns the config and last day."""
    store.upsert_prices("AAA", price_frame(digest_ratio() * 200))
    store.upsert_prices("BBB", price_frame(np.full(DIGEST_DAYS, 200.0)))
    store.upsert_prices("CCC", price_frame(np.full(DIGEST_DAYS - 5, 10.0)))  # stopped five days early
    rules = [
        {"name": "near", "metric": "ratio", "numerator": "AAA", "denominator": "BBB", "condition": "crosses_above",
         "threshold": 0.5},
        {"name": "pend", "metric": "ratio", "numerator": "AAA", "denominator": "BBB", "condition": "above",
         "threshold": 0.48, "for_days": 30},
        {"name": "ccc", "metric": "close", "symbol": "CCC", "condition": "between", "low": 5, "high": 20},
    ]  # fmt: skip
    cfg = make_config(tmp_path, rules=rules)
    as_of = price_frame(np.zeros(DIGEST_DAYS)).index[-1].date()
    return cfg, as_of
