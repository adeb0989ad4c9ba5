"""The metric catalog: what each metric is, its parameters and what it reads, without computing anything.

A rule's plain keys beside ``metric = "..."`` are validated against these pydantic models (types,
unknown keys) before anything runs, and validation needs no pandas: ``rules check`` and
``rules list`` start in a blink. How each metric is computed lives in ``rules.metrics``; adding a
metric is one declaration here and one ``@computes`` function there (a test checks they match).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import pandas as pd

Basis = Literal["close", "adj_close"]

CPI_MEASURES = ("headline_mom", "headline_yoy", "core_mom", "core_yoy")


# As Yahoo spells a symbol (^GSPC, BRK-B, BRK.B, ES=F): never a path, a space or another script's digit.
SYMBOL = re.compile(r"\^?[A-Za-z0-9][A-Za-z0-9.=-]{0,19}", re.ASCII)


def _symbol(value: str) -> str:
    if not SYMBOL.fullmatch(value):
        raise ValueError(f"expected a symbol as Yahoo spells it (^GSPC, BRK-B, ES=F), got {json.dumps(value)}")
    return value


Symbol = Annotated[str, AfterValidator(_symbol)]


class Params(BaseModel):
    """Base of every metric's parameter model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class Metric(Generic[P]):
    name: str
    params: type[P]
    symbols: Callable[[P], set[str]]
    describe: Callable[[P], str]
    doc: str
    universes: Callable[[P], set[str]] = field(default=lambda p: set())
    uses_cpi: bool = False
    # Each observation is a separate event (a CPI release), not a level that persists between them.
    events: bool = False


METRICS: dict[str, Metric[Any]] = {}


def declare(metric: Metric[Any]) -> Metric[Any]:
    METRICS[metric.name] = metric
    return metric


def get(name: str) -> Metric[Any]:
    return METRICS[name]


class CloseParams(Params):
    symbol: Symbol
    basis: Basis = "close"


declare(
    Metric(
        "close",
        CloseParams,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} close",
        "A symbol's daily close.",
    )
)


class SmaParams(Params):
    symbol: Symbol
    window: int = Field(200, ge=1, le=2000)
    basis: Basis = "close"


declare(
    Metric(
        "sma",
        SmaParams,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} {p.window}-day SMA",
        "A symbol's N-day simple moving average.",
    )
)


class RatioParams(Params):
    numerator: Symbol
    denominator: Symbol
    basis: Basis = "close"


declare(
    Metric(
        "ratio",
        RatioParams,
        lambda p: {p.numerator, p.denominator},
        lambda p: f"{p.numerator} / {p.denominator}",
        "Ratio of two symbols' closes, e.g. ^RUT/^GSPC or RSP/SPY.",
    )
)


class SmaDistanceParams(Params):
    """Distance of a symbol (or of a ratio, when ``denominator`` is set) from its own SMA, in %."""

    symbol: Symbol
    denominator: Symbol | None = None
    window: int = Field(200, ge=2, le=2000)
    basis: Basis = "close"


def _sma_distance_describe(p: SmaDistanceParams) -> str:
    what = f"{p.symbol} / {p.denominator}" if p.denominator else p.symbol
    return f"{what} vs its {p.window}-day SMA (%)"


declare(
    Metric(
        "sma_distance",
        SmaDistanceParams,
        lambda p: {p.symbol} | ({p.denominator} if p.denominator else set()),
        _sma_distance_describe,
        "How far a symbol or ratio is above (+) or below (−) its own N-day average, in %.",
    )
)


class ChangeParams(Params):
    symbol: Symbol
    days: int = Field(ge=1, le=5000)
    basis: Basis = "close"


declare(
    Metric(
        "change",
        ChangeParams,
        lambda p: {p.symbol},
        lambda p: f"{p.symbol} change over {p.days} days (%)",
        "Percent change of a symbol over N trading days.",
    )
)


class RelativeParams(Params):
    symbol: Symbol
    benchmark: Symbol
    days: int = Field(ge=1, le=5000)
    basis: Basis = "close"


declare(
    Metric(
        "relative",
        RelativeParams,
        lambda p: {p.symbol, p.benchmark},
        lambda p: f"{p.symbol} minus {p.benchmark} change over {p.days} days (pt)",
        "Change of a symbol minus change of a benchmark over N trading days, in points.",
    )
)


class BreadthParams(Params):
    universe: str = "sp500"
    window: int = Field(200, ge=2, le=2000)
    basis: Basis = "close"
    membership: Literal["point_in_time", "current", "auto"] = "auto"


declare(
    Metric(
        "breadth",
        BreadthParams,
        lambda p: set(),
        lambda p: f"% of {p.universe} members above their {p.window}-day SMA",
        "Share of a universe's members closing above their own N-day simple moving average.",
        universes=lambda p: {p.universe},
    )
)


Num = TypeVar("Num", float, "pd.Series")


def cpi_surprise(actual: Num, expected: Num) -> Num:
    """Actual minus consensus, in points, to the hundredth: the one definition alerts and /cpi share."""
    return round(actual - expected, 2)  # type: ignore[return-value]


class CpiSurpriseParams(Params):
    measure: Literal["headline_mom", "headline_yoy", "core_mom", "core_yoy"] = "headline_yoy"
    fallback: Literal["none", "naive"] = "none"


declare(
    Metric(
        "cpi_surprise",
        CpiSurpriseParams,
        lambda p: set(),
        lambda p: f"CPI {p.measure.replace('_', ' ')} actual − consensus (pt)",
        "US CPI release minus consensus, in points, on release days.",
        uses_cpi=True,
        events=True,
    )
)
