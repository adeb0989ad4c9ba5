"""The market data a rule is evaluated against: plain pandas frames, handed in by the caller.

rules/ never loads anything itself; the bot builds a ``MarketData`` from its store (or a test
builds one from generated series) and passes it to ``evaluate``/``replay``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rules.catalog import CPI_MEASURES, Basis
from rules.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CPI_MEASURES", "Basis", "MarketData"]


@dataclass(frozen=True)
class MarketData:
    """Daily prices and reference data.

    ``close`` and ``adj_close`` are wide frames (DatetimeIndex of trading days × symbol columns,
    float, NaN where a symbol has no row). ``close`` is split-adjusted only and falls back to
    ``adj_close`` where a source lacks it (ETF files); ``adj_close`` also removes dividends.

    ``membership`` maps a universe name to a boolean frame (date × symbol) saying who was a
    member on each day; when absent, breadth uses the current list in ``universes``.

    ``cpi`` has one row per CPI release (index: release date) with ``month`` and, per measure,
    ``actual_<measure>`` (as first published), ``expected_<measure>`` (consensus, NaN when unknown)
    and ``naive_<measure>`` (prior three-month average, an opt-in fallback).
    """

    close: pd.DataFrame
    adj_close: pd.DataFrame | None = None
    universes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    membership: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    cpi: pd.DataFrame | None = None

    def prices(self, basis: Basis) -> pd.DataFrame:
        if basis == "adj_close" and self.adj_close is not None:
            return self.adj_close
        return self.close

    def series(self, symbol: str, basis: Basis = "close") -> pd.Series:
        """One symbol's prices, own trading days only (NaN rows dropped)."""
        frame = self.prices(basis)
        if symbol not in frame.columns:
            raise DataError(f"no prices stored for symbol {symbol!r}")
        s = frame[symbol].dropna()
        if s.empty:
            raise DataError(f"no prices stored for symbol {symbol!r}")
        return s

    def members(self, universe: str) -> tuple[str, ...]:
        if universe in self.universes:
            return self.universes[universe]
        if universe in self.membership:
            return tuple(self.membership[universe].columns)
        raise DataError(f"universe {universe!r} has no member list (load one with `rotation-bot fetch`)")

    def until(self, day: pd.Timestamp) -> MarketData:
        """The data as it was known at the close of ``day`` (used by naive loops and tests)."""
        cpi = None if self.cpi is None else self.cpi.loc[:day]
        return MarketData(
            close=self.close.loc[:day],
            adj_close=None if self.adj_close is None else self.adj_close.loc[:day],
            universes=self.universes,
            membership={k: v.loc[:day] for k, v in self.membership.items()},
            cpi=cpi,
        )
