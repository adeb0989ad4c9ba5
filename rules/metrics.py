"""The metric registry: each metric is one pure function plus its declared parameters.

Adding a metric is one function and one ``register`` line. Parameters are pydantic models, so a
rule's plain keys beside ``metric = "..."`` are validated (types, unknown keys) before anything
runs. Every metric returns a ``MetricSeries``: values on the days the metric exists, plus
optional per-day details (breadth's member counts, CPI's actual and expected figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rules.arith import pct_change, rolling_mean
from rules.data import CPI_MEASURES, Basis, MarketData
from rules.errors import DataError


class Params(BaseModel):
    """Base of every metric's parameter model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class MetricSeries:
    """A metric's values (no NaN, ascending dates) and optional per-day details."""

    values: pd.Series
    details: pd.DataFrame | None = None
    unit: str = ""


@dataclass(frozen=True)
class Metric(Generic[P]):
    name: str
    params: type[P]
    compute: Callable[[MarketData, P], MetricSeries]
    symbols: Callable[[P], set[str]]
    describe: Callable[[P], str]
    doc: str
    universes: Callable[[P], set[str]] = field(default=lambda p: set())
    uses_cpi: bool = False
    # Each observation is a separate event (a CPI release), not a level that persists between them.
    events: bool = False


REGISTRY: dict[str, Metric[Any]] = {}


def register(metric: Metric[Any]) -> Metric[Any]:
    REGISTRY[metric.name] = metric
    return metric


def get(name: str) -> Metric[Any]:
    return REGISTRY[name]


def _clean(values: pd.Series, name: str) -> pd.Series:
    s = values.replace([np.inf, -np.inf], np.nan).dropna().astype(float)
    s.name = name
    return s


# --- close -------------------------------------------------------------------------------------


class CloseParams(Params):
    symbol: str
    basis: Basis = "close"


def _close(data: MarketData, p: CloseParams) -> MetricSeries:
    return MetricSeries(_clean(data.series(p.symbol, p.basis), "close"))


register(
    Metric(
        "close",
        CloseParams,
        _close,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} close",
        "A symbol's daily close.",
    )
)


# --- sma ---------------------------------------------------------------------------------------


class SmaParams(Params):
    symbol: str
    window: int = Field(200, ge=1, le=2000)
    basis: Basis = "close"


def _sma(data: MarketData, p: SmaParams) -> MetricSeries:
    s = data.series(p.symbol, p.basis)
    sma = rolling_mean(s.to_numpy(dtype=float), p.window)
    return MetricSeries(_clean(pd.Series(sma, index=s.index), "sma"))


register(
    Metric(
        "sma",
        SmaParams,
        _sma,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} {p.window}-day SMA",
        "A symbol's N-day simple moving average.",
    )
)


# --- ratio -------------------------------------------------------------------------------------


class RatioParams(Params):
    numerator: str
    denominator: str
    basis: Basis = "close"


def ratio_series(data: MarketData, numerator: str, denominator: str, basis: Basis) -> pd.Series:
    """Numerator / denominator on the days both have a close."""
    a = data.series(numerator, basis)
    b = data.series(denominator, basis)
    both = pd.concat([a, b], axis=1, join="inner")
    return both.iloc[:, 0] / both.iloc[:, 1]


def _ratio(data: MarketData, p: RatioParams) -> MetricSeries:
    return MetricSeries(_clean(ratio_series(data, p.numerator, p.denominator, p.basis), "ratio"))


register(
    Metric(
        "ratio",
        RatioParams,
        _ratio,
        lambda p: {p.numerator, p.denominator},
        lambda p: f"{p.numerator} / {p.denominator}",
        "Ratio of two symbols' closes, e.g. ^RUT/^GSPC or RSP/SPY.",
    )
)


# --- sma_distance ------------------------------------------------------------------------------


class SmaDistanceParams(Params):
    """Distance of a symbol (or of a ratio, when ``denominator`` is set) from its own SMA, in %."""

    symbol: str
    denominator: str | None = None
    window: int = Field(200, ge=2, le=2000)
    basis: Basis = "close"


def _sma_distance(data: MarketData, p: SmaDistanceParams) -> MetricSeries:
    if p.denominator:
        s = ratio_series(data, p.symbol, p.denominator, p.basis)
    else:
        s = data.series(p.symbol, p.basis)
    sma = rolling_mean(s.to_numpy(dtype=float), p.window)
    dist = (s.to_numpy(dtype=float) / sma - 1.0) * 100.0
    return MetricSeries(_clean(pd.Series(dist, index=s.index), "sma_distance"), unit="%")


def _sma_distance_describe(p: SmaDistanceParams) -> str:
    what = f"{p.symbol} / {p.denominator}" if p.denominator else p.symbol
    return f"{what} vs its {p.window}-day SMA (%)"


register(
    Metric(
        "sma_distance",
        SmaDistanceParams,
        _sma_distance,
        lambda p: {p.symbol} | ({p.denominator} if p.denominator else set()),
        _sma_distance_describe,
        "How far a symbol or ratio is above (+) or below (−) its own N-day average, in %.",
    )
)


# --- change / relative -------------------------------------------------------------------------


class ChangeParams(Params):
    symbol: str
    days: int = Field(ge=1, le=5000)
    basis: Basis = "close"


def _change(data: MarketData, p: ChangeParams) -> MetricSeries:
    s = data.series(p.symbol, p.basis)
    values = pct_change(s.to_numpy(dtype=float), p.days)
    return MetricSeries(_clean(pd.Series(values, index=s.index), "change"), unit="%")


register(
    Metric(
        "change",
        ChangeParams,
        _change,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} change over {p.days} days (%)",
        "Percent change of a symbol over N trading days.",
    )
)


class RelativeParams(Params):
    symbol: str
    benchmark: str
    days: int = Field(ge=1, le=5000)
    basis: Basis = "close"


def _relative(data: MarketData, p: RelativeParams) -> MetricSeries:
    a = data.series(p.symbol, p.basis)
    b = data.series(p.benchmark, p.basis)
    both = pd.concat([a, b], axis=1, join="inner")
    ca = pct_change(both.iloc[:, 0].to_numpy(dtype=float), p.days)
    cb = pct_change(both.iloc[:, 1].to_numpy(dtype=float), p.days)
    details = pd.DataFrame({"change": ca, "benchmark_change": cb}, index=both.index)
    values = pd.Series(ca - cb, index=both.index)
    return MetricSeries(_clean(values, "relative"), details.dropna(), unit="pt")


register(
    Metric(
        "relative",
        RelativeParams,
        _relative,
        lambda p: {p.symbol, p.benchmark},
        lambda p: f"{p.symbol} minus {p.benchmark} change over {p.days} days (pt)",
        "Change of a symbol minus change of a benchmark over N trading days, in points.",
    )
)


# --- breadth -----------------------------------------------------------------------------------


class BreadthParams(Params):
    universe: str = "sp500"
    window: int = Field(200, ge=2, le=2000)
    basis: Basis = "close"
    membership: Literal["point_in_time", "current", "auto"] = "auto"


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


def _breadth(data: MarketData, p: BreadthParams) -> MetricSeries:
    frame = usable_breadth(breadth_frame(data, p))
    return MetricSeries(_clean(frame["value"], "breadth"), frame.drop(columns="value"), unit="%")


register(
    Metric(
        "breadth",
        BreadthParams,
        _breadth,
        lambda p: set(),
        lambda p: f"% of {p.universe} members above their {p.window}-day SMA",
        "Share of a universe's members closing above their own N-day simple moving average.",
        universes=lambda p: {p.universe},
    )
)


# --- cpi_surprise ------------------------------------------------------------------------------


class CpiSurpriseParams(Params):
    measure: Literal["headline_mom", "headline_yoy", "core_mom", "core_yoy"] = "headline_yoy"
    fallback: Literal["none", "naive"] = "none"


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
    surprise = (actual - expected).round(2)
    details = pd.DataFrame(
        {"month": data.cpi["month"], "actual": actual, "expected": expected, "expected_basis": basis}
    )
    keep = surprise.notna()
    return MetricSeries(_clean(surprise[keep], "cpi_surprise"), details[keep], unit="pt")


assert set(CPI_MEASURES) == {"headline_mom", "headline_yoy", "core_mom", "core_yoy"}

register(
    Metric(
        "cpi_surprise",
        CpiSurpriseParams,
        _cpi_surprise,
        lambda p: set(),
        lambda p: f"CPI {p.measure.replace('_', ' ')} actual − consensus (pt)",
        "US CPI release minus consensus, in points, on release days.",
        uses_cpi=True,
        events=True,
    )
)
