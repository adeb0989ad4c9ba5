"""How each metric of the catalog is computed: one pure, vectorised function per metric.

Every function returns a ``MetricSeries``: values on the days the metric exists, plus optional
per-day details (breadth's member counts, CPI's actual and expected figures). The declarations
(parameters, symbols read, descriptions) live in ``rules.catalog``, which needs no pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rules.arith import pct_change, rolling_mean
from rules.catalog import (
    Basis,
    BreadthParams,
    ChangeParams,
    CloseParams,
    CpiSurpriseParams,
    Params,
    RatioParams,
    RelativeParams,
    SmaDistanceParams,
    SmaParams,
    cpi_surprise,
)
from rules.data import MarketData
from rules.errors import DataError


@dataclass(frozen=True)
class MetricSeries:
    """A metric's values (no NaN, ascending dates) and optional per-day details."""

    values: pd.Series
    details: pd.DataFrame | None = None
    unit: str = ""


Compute = Callable[[MarketData, Any], "MetricSeries"]
COMPUTE: dict[str, Compute] = {}


def computes(name: str) -> Callable[[Compute], Compute]:
    """Register the function that computes the catalog's metric ``name``."""

    def register(fn: Compute) -> Compute:
        COMPUTE[name] = fn
        return fn

    return register


def compute_metric(name: str, data: MarketData, params: Params) -> MetricSeries:
    return COMPUTE[name](data, params)


def _clean(values: pd.Series, name: str) -> pd.Series:
    s = values.replace([np.inf, -np.inf], np.nan).dropna().astype(float)
    s.name = name
    return s


# --- close -------------------------------------------------------------------------------------


@computes("close")
def _close(data: MarketData, p: CloseParams) -> MetricSeries:
    return MetricSeries(_clean(data.series(p.symbol, p.basis), "close"))


# --- sma ---------------------------------------------------------------------------------------


@computes("sma")
def _sma(data: MarketData, p: SmaParams) -> MetricSeries:
    s = data.series(p.symbol, p.basis)
    sma = rolling_mean(s.to_numpy(dtype=float), p.window)
    return MetricSeries(_clean(pd.Series(sma, index=s.index), "sma"))


# --- ratio -------------------------------------------------------------------------------------


def ratio_series(data: MarketData, numerator: str, denominator: str, basis: Basis) -> pd.Series:
    """Numerator / denominator on the days both have a close."""
    a = data.series(numerator, basis)
    b = data.series(denominator, basis)
    both = pd.concat([a, b], axis=1, join="inner")
    return both.iloc[:, 0] / both.iloc[:, 1]


@computes("ratio")
def _ratio(data: MarketData, p: RatioParams) -> MetricSeries:
    return MetricSeries(_clean(ratio_series(data, p.numerator, p.denominator, p.basis), "ratio"))


# --- sma_distance ------------------------------------------------------------------------------


@computes("sma_distance")
def _sma_distance(data: MarketData, p: SmaDistanceParams) -> MetricSeries:
    if p.denominator:
        s = ratio_series(data, p.symbol, p.denominator, p.basis)
    else:
        s = data.series(p.symbol, p.basis)
    sma = rolling_mean(s.to_numpy(dtype=float), p.window)
    dist = (s.to_numpy(dtype=float) / sma - 1.0) * 100.0
    return MetricSeries(_clean(pd.Series(dist, index=s.index), "sma_distance"), unit="%")


# --- change / relative -------------------------------------------------------------------------


@computes("change")
def _change(data: MarketData, p: ChangeParams) -> MetricSeries:
    s = data.series(p.symbol, p.basis)
    values = pct_change(s.to_numpy(dtype=float), p.days)
    return MetricSeries(_clean(pd.Series(values, index=s.index), "change"), unit="%")


@computes("relative")
def _relative(data: MarketData, p: RelativeParams) -> MetricSeries:
    a = data.series(p.symbol, p.basis)
    b = data.series(p.benchmark, p.basis)
    both = pd.concat([a, b], axis=1, join="inner")
    ca = pct_change(both.iloc[:, 0].to_numpy(dtype=float), p.days)
    cb = pct_change(both.iloc[:, 1].to_numpy(dtype=float), p.days)
    details = pd.DataFrame({"change": ca, "benchmark_change": cb}, index=both.index)
    values = pd.Series(ca - cb, index=both.index)
    return MetricSeries(_clean(values, "relative"), details.dropna(), unit="pt")


# --- breadth -----------------------------------------------------------------------------------


PARTIAL_SHARE = 0.9  # a day counting under 90% of the usual members is a partial fetch
PARTIAL_LOOKBACK = 10  # "usual": the median over the previous ten days


def breadth_frame(data: MarketData, p: BreadthParams) -> pd.DataFrame:
    """Per day: members above their own SMA, members counted, members excluded, and the percent.

    A member counts on a day when it has a close that day and at least ``window`` closes so far;
    the rest of that day's members are ``excluded`` (too young, no price, or ended).
    """
    use_pit = p.membership == "point_in_time" or (p.membership == "auto" and p.universe in data.membership)
    if use_pit:
        if p.universe not in data.membership:
            raise DataError(f"universe {p.universe!r} has no point-in-time membership loaded")
        mask = data.membership[p.universe]
        members = list(mask.columns)
    else:
        members = list(data.members(p.universe))
        mask = None
        if not members:
            raise DataError(
                f"universe {p.universe!r} has no member list yet: load a members.csv with "
                f"`rotation-bot fetch --source csv --path DIR` or set [universes.{p.universe}] members"
            )
    prices = data.prices(p.basis)
    present = [m for m in members if m in prices.columns]
    if not present:
        raise DataError(f"no prices stored for any member of universe {p.universe!r}")
    frame = prices[present]
    values = frame.to_numpy(dtype=float)
    sma = rolling_mean(values, p.window)
    counted = ~np.isnan(sma)
    above = counted & (values > sma)
    if mask is not None:
        m = mask.reindex(index=frame.index, columns=present).fillna(False).to_numpy(dtype=bool)
        in_index = mask.reindex(index=frame.index).fillna(False).to_numpy(dtype=bool).sum(axis=1)
        counted &= m
        above &= m
        total = in_index
    else:
        total = np.full(len(frame.index), len(members))
    n_counted = counted.sum(axis=1)
    n_above = above.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n_counted > 0, n_above / np.maximum(n_counted, 1) * 100.0, np.nan)
    # A day on which far fewer members have a close than on the days before is a partial fetch (one
    # batch of a hundred tickers missing), not a market: its percentage would be noise, so it waits
    # until the rest arrives. Only earlier days are compared, so the rule stays causal.
    usual = pd.Series(n_counted, dtype=float).shift(1).rolling(PARTIAL_LOOKBACK, min_periods=1).median()
    partial = (n_counted < PARTIAL_SHARE * usual).to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "value": pct,
            "above": n_above,
            "counted": n_counted,
            "excluded": total - n_counted,
            "members": total,
            "partial": partial,
        },
        index=frame.index,
    )


def usable_breadth(frame: pd.DataFrame) -> pd.DataFrame:
    """The days breadth can be judged on: some member counted, and not a partial fetch."""
    return frame[(frame["counted"] > 0) & ~frame["partial"]].drop(columns="partial")


@computes("breadth")
def _breadth(data: MarketData, p: BreadthParams) -> MetricSeries:
    frame = usable_breadth(breadth_frame(data, p))
    return MetricSeries(_clean(frame["value"], "breadth"), frame.drop(columns="value"), unit="%")


# --- cpi_surprise ------------------------------------------------------------------------------


@computes("cpi_surprise")
def _cpi_surprise(data: MarketData, p: CpiSurpriseParams) -> MetricSeries:
    """Actual (first published) minus consensus, in points, on each release day."""
    if data.cpi is None or data.cpi.empty:
        raise DataError("no CPI releases stored (run `rotation-bot fetch` with the fred or csv source)")
    actual = data.cpi[f"actual_{p.measure}"]
    expected = data.cpi[f"expected_{p.measure}"]
    basis = pd.Series("consensus", index=data.cpi.index)
    if p.fallback == "naive":
        naive = data.cpi[f"naive_{p.measure}"]
        basis = basis.where(expected.notna(), "naive")
        expected = expected.fillna(naive)
    surprise = cpi_surprise(actual, expected)
    details = pd.DataFrame(
        {"month": data.cpi["month"], "actual": actual, "expected": expected, "expected_basis": basis}
    )
    keep = surprise.notna()
    return MetricSeries(_clean(surprise[keep], "cpi_surprise"), details[keep], unit="pt")
