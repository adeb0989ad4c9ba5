"""Track record: what followed each firing of a rule, over fixed forward horizons.

An alert says "the ratio crossed 0.4"; a user's next question is "and what usually happened
next?". For every firing day *d* and horizon *h* (trading days) this module measures the forward
move of the rule's symbol, or of a symbol against a benchmark in points::

    (A[d+h] / A[d] − 1) − (B[d+h] / B[d] − 1)      × 100

on the days both symbols have a close. A firing whose horizon reaches past the last known close is
*open* (its move is ``None``) and never enters a summary, so a summary only ever counts complete
outcomes, and every rendering states how many (``n``). Pure: prices come in as ``MarketData``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from rules.data import Basis, MarketData
from rules.engine import Alert
from rules.evidence import NO_CHANCE, Chance, chance, forward_moves
from rules.model import Rule
from rules.words import (
    EDGE,
    EVIDENCE_VERSION,
    adjusted,
    horizon_label,
)

DEFAULT_HORIZONS: tuple[int, ...] = (21, 63, 126)

FiringInput = Alert | dt.date | tuple[dt.date, float | None]


@dataclass(frozen=True)
class Firing:
    """One firing and the forward move per horizon (``None``: the horizon has not elapsed yet)."""

    date: dt.date
    value: float | None
    moves: tuple[float | None, ...]

    @property
    def open(self) -> bool:
        return any(m is None for m in self.moves)


@dataclass(frozen=True)
class HorizonSummary:
    """Complete outcomes at one horizon: how many, how many positive, and their spread."""

    horizon: int
    n: int
    positive: int
    open: int
    median: float | None
    best: float | None
    worst: float | None
    chance: Chance = NO_CHANCE  # the same horizon from every day of the span, and whether the firings differ

    def to_dict(self) -> dict[str, Any]:
        """One horizon in JSON: the firings' figures, then the base rate (``base_*``) and the test against it."""
        c = self.chance
        return {
            "horizon": self.horizon,
            "label": horizon_label(self.horizon),
            "n": self.n,
            "positive": self.positive,
            "share_positive": self.positive / self.n if self.n else None,
            "open": self.open,
            "median": self.median,
            "best": self.best,
            "worst": self.worst,
            "base_days": c.base_n,
            "base_positive": c.base_positive,
            "base_rate": c.base_rate,
            "base_median": c.base_median,
            "independent": c.independent,
            "independent_positive": c.independent_positive,
            "p_value": c.p_value,
            "share_interval": None if c.rate_low is None else [c.rate_low, c.rate_high],
            "median_interval": None if c.median_low is None else [c.median_low, c.median_high],
            "verdict": c.verdict,
            "p_adjusted": c.p_adjusted,
            "family": c.family,
            "power": c.power,
            "edge": EDGE,
            "min_detectable": c.min_detectable,
            "tested_median": c.tested_median,
        }


@dataclass(frozen=True)
class TrackRecord:
    """Every firing of a rule with its forward moves, and a summary per horizon."""

    symbol: str
    benchmark: str | None
    horizons: tuple[int, ...]
    firings: tuple[Firing, ...]
    summaries: tuple[HorizonSummary, ...]
    as_of: dt.date | None
    since: dt.date | None
    rule: str = ""

    @property
    def unit(self) -> str:
        """Points for a symbol against a benchmark, percent for a symbol alone."""
        return "pt" if self.benchmark else "%"

    def summary(self, horizon: int) -> HorizonSummary:
        for s in self.summaries:
            if s.horizon == horizon:
                return s
        raise KeyError(horizon)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text, open moves as null)."""
        return {
            "rule": self.rule,
            "symbol": self.symbol,
            "benchmark": self.benchmark,
            "unit": self.unit,
            "horizons": list(self.horizons),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "since": self.since.isoformat() if self.since else None,
            "fired": len(self.firings),
            "evidence": EVIDENCE_VERSION,
            "summaries": [s.to_dict() for s in self.summaries],
            "firings": [
                {
                    "date": f.date.isoformat(),
                    "value": f.value,
                    "moves": {str(h): m for h, m in zip(self.horizons, f.moves, strict=True)},
                    "open": f.open,
                }
                for f in self.firings
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrackRecord:
        horizons = tuple(int(h) for h in d["horizons"])
        firings = tuple(
            Firing(
                dt.date.fromisoformat(f["date"]),
                f.get("value"),
                tuple(f["moves"].get(str(h)) for h in horizons),
            )
            for f in d["firings"]
        )
        summaries = tuple(
            HorizonSummary(
                int(s["horizon"]),
                int(s["n"]),
                int(s["positive"]),
                int(s["open"]),
                s["median"],
                s["best"],
                s["worst"],
                _chance_from(s),
            )
            for s in d["summaries"]
        )
        return cls(
            symbol=d["symbol"],
            benchmark=d.get("benchmark"),
            horizons=horizons,
            firings=firings,
            summaries=summaries,
            as_of=dt.date.fromisoformat(d["as_of"]) if d.get("as_of") else None,
            since=dt.date.fromisoformat(d["since"]) if d.get("since") else None,
            rule=d.get("rule", ""),
        )


def _chance_from(s: Mapping[str, Any]) -> Chance:
    rate = s.get("share_interval") or (None, None)
    med = s.get("median_interval") or (None, None)
    return Chance(
        int(s.get("base_days", 0)),
        int(s.get("base_positive", 0)),
        s.get("base_median"),
        int(s.get("independent", 0)),
        int(s.get("independent_positive", 0)),
        s.get("p_value"),
        rate[0],
        rate[1],
        med[0],
        med[1],
        s.get("power"),
        s.get("min_detectable"),
        s.get("p_adjusted"),
        int(s.get("family", 1)),
        s.get("tested_median"),
    )


# --- which symbols a rule is judged by --------------------------------------------------------


def _param(rule: Rule, name: str) -> str | None:
    v = getattr(rule.params, name, None)
    return v if isinstance(v, str) and v else None


def track_symbols(rule: Rule) -> tuple[str, str | None]:
    """The (symbol, benchmark) whose forward move judges a rule: its ``track`` key, else by metric.

    A ratio or relative rule is about one symbol beating another, so it is judged in points
    against the second; a single-symbol rule by the symbol's own change; breadth and anything
    without a symbol by the S&P 500; a CPI surprise by small caps against large caps.
    """
    if rule.spec.track:
        return rule.spec.track[0], (rule.spec.track[1] if len(rule.spec.track) > 1 else None)
    metric = rule.spec.metric
    if metric == "ratio":
        return _param(rule, "numerator") or "^RUT", _param(rule, "denominator")
    if metric == "relative":
        return _param(rule, "symbol") or "^RUT", _param(rule, "benchmark")
    if metric == "cpi_surprise":
        return "^RUT", "^GSPC"
    symbol = _param(rule, "symbol")
    if symbol is not None:
        return symbol, _param(rule, "denominator")
    return "^GSPC", None


def track_horizons(rule: Rule) -> tuple[int, ...]:
    return tuple(rule.spec.horizons) if rule.spec.horizons else DEFAULT_HORIZONS


def track_basis(rule: Rule) -> Basis:
    """The rule's own price basis (RSP/SPY on adjusted closes is judged on adjusted closes)."""
    return "adj_close" if getattr(rule.params, "basis", "close") == "adj_close" else "close"


# --- the computation ---------------------------------------------------------------------------


def _firing_points(firings: Iterable[FiringInput]) -> list[tuple[dt.date, float | None]]:
    out: list[tuple[dt.date, float | None]] = []
    for f in firings:
        if isinstance(f, Alert):
            if f.kind == "firing":
                out.append((f.date, f.value))
        elif isinstance(f, tuple):
            out.append((f[0], None if f[1] is None else float(f[1])))
        else:
            out.append((f, None))
    return sorted(set(out), key=lambda x: x[0])


def _summarise(horizon: int, moves: Sequence[float | None], odds: Chance) -> HorizonSummary:
    done = np.array([m for m in moves if m is not None], dtype=float)
    if len(done) == 0:
        return HorizonSummary(horizon, 0, 0, len(moves), None, None, None, odds)
    return HorizonSummary(
        horizon,
        n=len(done),
        positive=int((done > 0).sum()),
        open=len(moves) - len(done),
        median=float(np.median(done)),
        best=float(done.max()),
        worst=float(done.min()),
        chance=odds,
    )


def track_record(
    firings: Iterable[FiringInput],
    prices: MarketData,
    symbols: tuple[str, str | None],
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    as_of: dt.date | None = None,
    *,
    basis: Basis = "close",
    since: dt.date | None = None,
    rule: str = "",
) -> TrackRecord:
    """Forward moves after each firing (alerts of kind ``firing``, dates, or (date, value) pairs), and the
    same horizon from every day since ``since`` (the base rate).

    A firing is measured from the last close on or before its day (a breadth firing on a day the
    index lacks still counts) to ``h`` closes later; closes after ``as_of`` are unknown, so a
    horizon reaching past ``as_of`` (default: the last close) leaves that move open, and the base
    rate counts only windows complete by ``as_of``. Firings after an explicit ``as_of`` are ignored;
    without one, firings after the last close are kept, all open, and the record is as of the last of them
    (no day it counts is after the day it says it is as of).
    Raises ``DataError`` when a symbol has no prices.
    """
    symbol, benchmark = symbols
    hs = tuple(int(h) for h in horizons)
    if any(h < 1 for h in hs):
        raise ValueError("horizons must be positive day counts")
    a = prices.series(symbol, basis)
    if benchmark:
        both = pd.concat([a, prices.series(benchmark, basis)], axis=1, join="inner")
    else:
        both = a.to_frame()
    if as_of is not None:
        both = both.loc[: pd.Timestamp(as_of)]
    last = both.index[-1].date() if len(both.index) else None
    # A firing after the last close (a CPI release before the day's close is stored) is open, not dropped;
    # firings after an explicit ``as_of`` are not known yet on that day.
    points = [p for p in _firing_points(firings) if as_of is None or p[0] <= as_of]
    if as_of is None:  # as of the last day known: a firing after the last close is known, so the record is as of it
        as_of = max(last, points[-1][0]) if last is not None and points else last
    since = since or (points[0][0] if points else None)
    days = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in points])
    pos = both.index.searchsorted(days, side="right") - 1
    first = int(both.index.searchsorted(pd.Timestamp(since), side="left")) if since else 0
    sym = both.iloc[:, 0].to_numpy(dtype=float)
    bench = both.iloc[:, 1].to_numpy(dtype=float) if benchmark else None
    columns: list[list[float | None]] = []
    summaries: list[HorizonSummary] = []
    for h in hs:
        fwd = forward_moves(sym, bench, h)
        ok = pos >= 0
        move = np.where(ok, fwd[np.where(ok, pos, 0)], np.nan)
        columns.append([float(m) if np.isfinite(m) else None for m in move])
        odds = chance(move[ok], pos[ok].astype(np.int64), fwd[first:], h)
        summaries.append(_summarise(h, columns[-1], odds))
    summaries = as_family(summaries)
    rows = tuple(Firing(d, v, tuple(col[i] for col in columns)) for i, (d, v) in enumerate(points))
    return TrackRecord(
        symbol=symbol,
        benchmark=benchmark,
        horizons=hs,
        firings=rows,
        summaries=tuple(summaries),
        as_of=as_of,
        since=since,
        rule=rule,
    )


def as_family(summaries: Sequence[HorizonSummary]) -> list[HorizonSummary]:
    """The horizons of one record are shown together, so their p-values are adjusted together
    (Benjamini–Hochberg): one of three horizons at p = 0.04 is no finding on its own."""
    ps = adjusted([s.chance.p_value for s in summaries])
    m = sum(p is not None for p in ps)
    return [replace(s, chance=replace(s.chance, p_adjusted=p, family=m)) for s, p in zip(summaries, ps, strict=True)]


__all__ = [
    "DEFAULT_HORIZONS",
    "Firing",
    "HorizonSummary",
    "TrackRecord",
    "track_basis",
    "track_horizons",
    "track_record",
    "track_symbols",
]
