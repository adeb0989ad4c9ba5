"""A fake ``yf.download`` that returns exactly what yfinance 1.x returns.

The fake builds one OHLCV frame per ticker and joins them the way yfinance's ``download`` does
(``concat(keys=tickers, names=["Ticker", "Price"])``, then ``swaplevel`` and ``sort_index`` for
``group_by="column"``): MultiIndex columns (Price, Ticker), a tz-naive DatetimeIndex named "Date",
and an all-NaN column block for a ticker that failed (logged on the "yfinance" logger).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd


def ohlcv(days: pd.DatetimeIndex, base: float) -> pd.DataFrame:
    close = base + np.arange(len(days), dtype=float)
    frame = pd.DataFrame(
        {
            "Open": close - 0.5,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close * 0.98,
            "Volume": np.full(len(days), 1000, dtype=np.int64),
        },
        index=days,
    )
    frame.index.name = "Date"
    return frame


def empty_ohlcv() -> pd.DataFrame:
    frame = pd.DataFrame(
        index=pd.DatetimeIndex([]), data={c: np.nan for c in ("Open", "High", "Low", "Close", "Adj Close", "Volume")}
    )
    frame.index.name = "Date"
    return frame


def yf_shape(dfs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Join per-ticker frames exactly as yfinance 1.x ``download(group_by="column")`` does."""
    idx: pd.DatetimeIndex | None = None
    for df in dfs.values():
        if not df.empty:
            idx = pd.DatetimeIndex(df.index) if idx is None else idx.union(pd.DatetimeIndex(df.index))
    idx = idx if idx is not None else pd.DatetimeIndex([])
    dfs = {k: v.reindex(idx) for k, v in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    assert isinstance(data.columns, pd.MultiIndex)
    data.columns = data.columns.swaplevel(0, 1)
    data = data.sort_index(level=0, axis=1)
    return data


class FakeDownload:
    """Stands in for ``yf.download``: serves ``prices`` per ticker from ``start``; scripted failures."""

    def __init__(self, prices: dict[str, pd.DataFrame], failing: set[str] | None = None) -> None:
        self.prices = prices
        self.failing = failing or set()
        self.calls: list[dict[str, Any]] = []
        self.raise_first: list[BaseException] = []

    def __call__(self, tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        self.calls.append({"tickers": list(tickers), **kwargs})
        if self.raise_first:
            raise self.raise_first.pop(0)
        start = pd.Timestamp(kwargs["start"])
        dfs: dict[str, pd.DataFrame] = {}
        failed = []
        for t in sorted({t.upper() for t in tickers}):
            if t in self.failing or t not in self.prices:
                dfs[t] = empty_ohlcv()
                failed.append(t)
            else:
                df = self.prices[t]
                dfs[t] = df[df.index >= start].copy()
        if failed:
            logger = logging.getLogger("yfinance")
            logger.error("\n%d Failed download%s:", len(failed), "s" if len(failed) > 1 else "")
            logger.error(f"{failed}: YFTzMissingError('possibly delisted; no timezone found')")
        return yf_shape(dfs)
