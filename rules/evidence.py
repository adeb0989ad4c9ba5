"""Is a track record evidence, or what any day would have given? Base rates and tests of chance.

"Beat the S&P 500 after 4 of 7 firings (57%)" reads as an edge until one learns that the Russell 2000
beat it over 3 months on 47% of all days. So every outcome at a horizon is set beside the *base rate*:
the same measure over the same horizon from every day of the same span (windows complete by the
as-of day only). Two figures say whether the firings differ from it:

- the share of firings followed by a rise, by a two-sided exact binomial test against the base rate
  (``scipy.stats.binomtest``);
- the median move, by a bootstrap interval of the firings' median (``scipy.stats.bootstrap``, percentile
  method, fixed seed so a cached record and a fresh one agree), set against every day's median.

A test that does not reject has not shown "no edge" unless it could have seen one: its *power* (the
chance it rejects if the true hit rate were the base rate ± 15 pt, the weaker side) must reach 80% before
the verdict is "no clear difference"; below that it is "too few firings to tell", with the smallest edge
the test would have seen at 80% (rules/words.py holds the rule and the words). Seven firings against a
48% base reject only at 0 or 7 of 7: power about 0.04, and only an edge of 50 pt could have shown.

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

from rules.words import ALPHA, EDGE, POWER_GOAL, Odds, decide

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
    power: float | None = None  # chance the test rejects if the true hit rate were base ± EDGE (the weaker side)
    min_detectable: float | None = None  # the smallest such edge it would see with POWER_GOAL (None: none)
    p_adjusted: float | None = None  # p_value adjusted within the family of tests shown together
    family: int = 1
    tested_median: float | None = None  # median move of the independent firings (the sample tested)

    @property
    def base_rate(self) -> float | None:
        return self.base_positive / self.base_n if self.base_n else None

    def odds(self, n: int, positive: int) -> Odds:
        """The test in the form the words take (``n``/``positive``: every complete firing, shown beside it)."""
        return Odds(
            n,
            positive,
            self.independent,
            self.independent_positive,
            self.base_rate,
            self.p_value,
            self.p_adjusted,
            self.family,
            self.power,
            self.min_detectable,
        )

    @property
    def verdict(self) -> str | None:
        """``better``/``worse`` (rejects after correction), ``no_difference`` (had the power, did not reject),
        ``too_few`` (had not), or None when there is nothing to test."""
        p = self.p_value if self.p_adjusted is None else self.p_adjusted
        return decide(p, self.power, self.independent_positive, self.independent, self.base_rate)

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
    power, detectable = power_of(n, p)
    # Clopper-Pearson, the interval binomtest's proportion_ci(method="exact") finds by root search, in closed form
    # from the beta distribution's quantiles (the same numbers, a fraction of the time in a 20-value sweep).
    rate_low = float(beta.ppf(ALPHA / 2, k, n - k + 1)) if k > 0 else 0.0
    rate_high = float(beta.ppf(1 - ALPHA / 2, k + 1, n - k)) if k < n else 1.0
    low, high = _median_interval(indep)
    return Chance(
        base_n,
        base_positive,
        base_median,
        n,
        k,
        pvalue,
        rate_low,
        rate_high,
        low,
        high,
        power,
        detectable,
        tested_median=float(np.median(indep)),
    )


def rejects(n: int, p0: float) -> npt.NDArray[np.bool_]:
    """Which hit counts 0..n a two-sided exact binomial test against ``p0`` rejects at ALPHA: binomtest's
    p-value (the outcomes no likelier than the one seen) for every count at once."""
    from scipy.stats import binom

    pmf = binom.pmf(np.arange(n + 1), n, p0)
    p = np.array([pmf[pmf <= d * (1 + 1e-7)].sum() for d in pmf])
    return np.asarray(np.minimum(p, 1.0) < ALPHA)


EDGES = np.arange(1, 100) / 100  # the edges searched for the smallest one detectable, 1 pt apart


def power_of(n: int, p0: float) -> tuple[float, float | None]:
    """The test's power against a true hit rate of ``p0`` ± EDGE (the weaker side that is a rate at all), and
    the smallest edge it would see with POWER_GOAL on both such sides (None: no edge up to 99 pt)."""
    from scipy.stats import binom

    region = rejects(n, p0)
    counts = np.arange(n + 1)

    def power(edge: npt.NDArray[np.float64]) -> FloatArray:
        sides = []
        for alt in (p0 + edge, p0 - edge):
            inside = (alt > 0) & (alt < 1)
            pmf = np.asarray(binom.pmf(counts[None, :], n, np.clip(alt, 0, 1)[:, None]), dtype=float)
            hit = pmf[:, region].sum(axis=1)
            sides.append(np.where(inside, hit, np.inf))
        both = np.minimum(sides[0], sides[1])
        return np.where(np.isfinite(both), both, 0.0)  # no side is a rate: no such edge to see

    at_edge = float(power(np.array([EDGE]))[0])
    seen = np.nonzero(power(EDGES) >= POWER_GOAL)[0]
    return at_edge, (float(EDGES[seen[0]]) if len(seen) else None)


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


__all__ = ["ALPHA", "CONFIDENCE", "NO_CHANCE", "Chance", "chance", "forward_moves", "power_of", "rejects", "spaced"]
