"""Is a track record evidence, or what any day would have given? Base rates and tests of chance.

"Beat the S&P 500 after 4 of 7 firings (57%)" reads as an edge until one learns that the Russell 2000
beat it over 3 months on 47% of all days. So every outcome at a horizon is set beside the *base rate*:
the same measure over the same horizon from every day of the same span (windows complete by the
as-of day only). Two figures say whether the firings differ from it:

- the share of firings followed by a rise, by a two-sided exact binomial test against the base rate
  (``scipy.stats.binomtest``);
- the median move, by a bootstrap interval of the firings' median (``scipy.stats.bootstrap``, percentile
  method, fixed seed so a cached record and a fresh one agree), set against every day's median.

Firings closer together than the horizon share most of their forward window: two of them are one
piece of evidence, not two. Only firings at least one horizon apart (the first of each cluster, taken
greedily in date order) enter the test and the interval; the plain counts still show every firing.
The daily windows of the base rate overlap too, but they only estimate a proportion (unbiased), over
hundreds of independent horizons, so their own uncertainty is small beside that of a handful of firings.

scipy is imported on first use: a cached record is rendered without it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ALPHA = 0.05  # a difference is "not chance" when the two-sided p-value is below this
CONFIDENCE = 1 - ALPHA  # the intervals shown beside the tests (95%)
RESAMPLES = 1000  # bootstrap resamples: with a few dozen firings at most, the ends are order statistics either way
MIN_FOR_INTERVAL = 3  # fewer independent firings give no interval worth drawing

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Chance:
    """The firings' outcome at one horizon against every day's over the same span."""

    base_n: int  # days in the span whose horizon is complete
    base_positive: int  # of them, followed by a rise
    base_median: float | None
    independent: int  # complete firings at least one horizon apart
    independent_positive: int
    p_value: float | None  # binomial test of independent_positive of independent against the base rate
    rate_low: float | None  # 95% exact (Clopper-Pearson) interval of the independent firings' hit rate
    rate_high: float | None
    median_low: float | None  # 95% bootstrap interval of the independent firings' median move
    median_high: float | None

    @property
    def base_rate(self) -> float | None:
        return self.base_positive / self.base_n if self.base_n else None

    @property
    def verdict(self) -> str | None:
        """``better``/``worse`` than chance, ``chance`` (no better than it), or None when nothing to test."""
        if self.p_value is None or self.base_rate is None or not self.independent:
            return None
        if self.p_value >= ALPHA:
            return "chance"
        return "better" if self.independent_positive / self.independent > self.base_rate else "worse"

    @property
    def median_differs(self) -> bool | None:
        """Whether every day's median lies outside the firings' median interval (None: no interval)."""
        if self.median_low is None or self.median_high is None or self.base_median is None:
            return None
        return not (self.median_low <= self.base_median <= self.median_high)


NO_CHANCE = Chance(0, 0, None, 0, 0, None, None, None, None, None)


def forward_moves(sym: FloatArray, bench: FloatArray | None, h: int) -> FloatArray:
    """Per row *i*, the move from row *i* to row *i+h* (NaN where the horizon is not complete):
    ``(A[i+h]/A[i] − 1)·100``, minus the benchmark's when there is one, in points."""
    out = np.full(len(sym), np.nan)
    if len(sym) <= h:
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        move = (sym[h:] / sym[:-h] - 1.0) * 100.0
        if bench is not None:
            move = move - (bench[h:] / bench[:-h] - 1.0) * 100.0
    out[: len(move)] = move
    return out


def spaced(positions: npt.NDArray[np.int64], h: int) -> npt.NDArray[np.bool_]:
    """Which of the (sorted) row positions are at least ``h`` rows after the last one kept: one per cluster."""
    keep = np.zeros(len(positions), dtype=bool)
    last: int | None = None
    for i, p in enumerate(positions):
        if last is None or p - last >= h:
            keep[i] = True
            last = int(p)
    return keep


def chance(moves: FloatArray, positions: npt.NDArray[np.int64], base: FloatArray, h: int) -> Chance:
    """Test the firings' complete ``moves`` (at row ``positions``) against ``base``, every day's moves."""
    base = base[np.isfinite(base)]
    done = np.isfinite(moves)
    keep = spaced(positions[done], h)
    indep = moves[done][keep]
    base_n = len(base)
    base_positive = int((base > 0).sum())
    base_median = float(np.median(base)) if base_n else None
    k, n = int((indep > 0).sum()), len(indep)
    if not n or not base_n:
        return Chance(base_n, base_positive, base_median, n, k, None, None, None, None, None)
    from scipy.stats import beta, binomtest  # heavy: only a fresh computation needs it

    p = min(max(base_positive / base_n, 1e-12), 1 - 1e-12)  # a base rate of 0 or 1 still tests
    pvalue = float(binomtest(k, n, p).pvalue)
    # Clopper-Pearson, the interval binomtest's proportion_ci(method="exact") finds by root search, in closed form
    # from the beta distribution's quantiles (the same numbers, a fraction of the time in a 20-value sweep).
    rate_low = float(beta.ppf(ALPHA / 2, k, n - k + 1)) if k > 0 else 0.0
    rate_high = float(beta.ppf(1 - ALPHA / 2, k + 1, n - k)) if k < n else 1.0
    low, high = _median_interval(indep)
    return Chance(base_n, base_positive, base_median, n, k, pvalue, rate_low, rate_high, low, high)


def _median_interval(values: FloatArray) -> tuple[float | None, float | None]:
    if len(values) < MIN_FOR_INTERVAL:
        return None, None
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-equal samples are "degenerate": the interval is that one value
        res = bootstrap(
            (values,),
            np.median,
            confidence_level=CONFIDENCE,
            n_resamples=RESAMPLES,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(0),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return float(np.median(values)), float(np.median(values))
    return low, high


__all__ = ["ALPHA", "CONFIDENCE", "NO_CHANCE", "Chance", "chance", "forward_moves", "spaced"]
