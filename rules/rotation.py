"""Rotation episodes: stretches in which one index beat another by at least ``min_gap`` points within at most
``max_days`` trading days (the Russell 2000 over the S&P 500, by default of the caller).

"Can the small-cap rotation continue?" is answered by history only if history is read the way a user lives
it: an episode becomes known on its *detection* day, the first close on which the gap reached ``min_gap``
within the window; what followed is measured from there, never from its peak (which is known only later).
Its start is the close that widest window began on (the low the move was measured from when it became
known), and its peak the close of the widest gap from that start while the episode lasted. Days on which
the gap holds are grouped into one episode while the pauses between them are shorter than ``merge`` trading
days. An episode is under way while it held within ``merge`` days of the last close *and* the Russell 2000 is
still ahead since its start: a gap gone negative is never called a rotation (on 2024-12-23 one was "under way"
with the gap since its start at −1.1 pt).

Not every ``min_gap`` and ``max_days`` mean a rotation: with 0.0001 pt, or 2 pt within 45 days, the gap held
on most days since 1987 and one "rotation" ran for decades. The config and the command line bound each
(bot/config, ``[rotation]``), and ``held_share`` lets the caller refuse a pair under which most days would be in
one (more than ``MAX_HELD_SHARE``).

The gap between two closes *i* < *t* is ``(A[t]/A[i] − 1) − (B[t]/B[i] − 1)``, × 100, in points, as in
track records. Pure: two aligned price arrays in, episodes out; the caller cuts them at the as-of day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

MERGE_DAYS = 21  # a pause of under a month is the same rotation
MAX_HELD_SHARE = 0.5  # a rotation is the exception: a gap that holds on most days is the usual state
SHARE_CLOSES = 504  # two years of closes: over fewer, one rotation is a large share of them all (46% in May 1988)


@dataclass(frozen=True)
class Move:
    """Two indices from one close to another: each in %, and the gap in points."""

    start: dt.date
    end: dt.date
    days: int  # trading days (rows) between the two closes
    lead: float  # the first index, %
    lag: float  # the second index, %

    @property
    def gap(self) -> float:
        return self.lead - self.lag


@dataclass(frozen=True)
class Episode:
    """One rotation: from the low of its widest window to its peak, and when it became known."""

    move: Move  # start (the low the gap was measured from when it became known) → peak (its widest since then)
    detected: dt.date  # the first close on which the gap reached min_gap within max_days
    gap_at_detection: float
    last: dt.date  # the last close on which the gap still held
    ongoing: bool  # it still held within MERGE_DAYS of the as-of day, and the gap since its start is positive
    given_back: bool = False  # it still held within MERGE_DAYS, but the gap since its start is gone: it is over


def best_windows(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], max_days: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Per close *t*: the widest gap over windows of 1…``max_days`` rows ending at *t*, and that window's length."""
    n = len(a)
    best = np.full(n, -np.inf)
    length = np.zeros(n, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, min(max_days, n - 1) + 1):
            gap = np.full(n, -np.inf)
            gap[k:] = (a[k:] / a[:-k] - b[k:] / b[:-k]) * 100.0
            gap[~np.isfinite(gap)] = -np.inf
            wider = gap > best
            best[wider] = gap[wider]
            length[wider] = k
    return best, length


def move_between(both: pd.DataFrame, i: int, t: int) -> Move:
    """The move from row ``i`` to row ``t`` of a two-column frame of closes."""
    a, b = both.iloc[:, 0].to_numpy(dtype=float), both.iloc[:, 1].to_numpy(dtype=float)
    return Move(
        both.index[i].date(),
        both.index[t].date(),
        t - i,
        (a[t] / a[i] - 1.0) * 100.0,
        (b[t] / b[i] - 1.0) * 100.0,
    )


def episodes(both: pd.DataFrame, min_gap: float, max_days: int, merge: int = MERGE_DAYS) -> list[Episode]:
    """Every episode in ``both`` (closes of the leader and the laggard, aligned, ending on the as-of day)."""
    if len(both) < 2:
        return []
    a, b = both.iloc[:, 0].to_numpy(dtype=float), both.iloc[:, 1].to_numpy(dtype=float)
    best, length = best_windows(a, b, max_days)
    held = np.flatnonzero(best >= min_gap)
    if not len(held):
        return []
    breaks = np.flatnonzero(np.diff(held) > merge)
    runs = np.split(held, breaks + 1)
    last_row = len(both) - 1
    out = []
    for run in runs:
        first, final = int(run[0]), int(run[-1])
        start = first - int(length[first])
        with np.errstate(invalid="ignore", divide="ignore"):
            since_start = a[first : final + 1] / a[start] - b[first : final + 1] / b[start]
        peak = first + int(np.nanargmax(since_start))
        recent = last_row - final <= merge
        ahead = bool(a[last_row] / a[start] - b[last_row] / b[start] > 0)
        out.append(
            Episode(
                move=move_between(both, start, peak),
                detected=both.index[first].date(),
                gap_at_detection=float(best[first]),
                last=both.index[final].date(),
                ongoing=recent and ahead,
                given_back=recent and not ahead,
            )
        )
    return out


def held_share(both: pd.DataFrame, min_gap: float, max_days: int) -> float | None:
    """Share of closes (after the first) on which the gap reached ``min_gap`` within ``max_days``: how ordinary
    such a gap is. A pair under which it holds on most days names the usual state, not a rotation. None over
    fewer than ``SHARE_CLOSES`` closes, where a single rotation is a large share of them all."""
    if len(both) < SHARE_CLOSES:
        return None
    a, b = both.iloc[:, 0].to_numpy(dtype=float), both.iloc[:, 1].to_numpy(dtype=float)
    best, _ = best_windows(a, b, max_days)
    return float(np.mean(best[1:] >= min_gap))


def current_move(both: pd.DataFrame, max_days: int, found: list[Episode]) -> Move:
    """The move under way on the last row: from the low of the ongoing episode (or of the one just given back,
    so the move shows what became of it), else from the low of the widest window of at most ``max_days`` rows
    ending today."""
    last_row = len(both) - 1
    if found and (found[-1].ongoing or found[-1].given_back):
        start = int(both.index.searchsorted(pd.Timestamp(found[-1].move.start)))
        return move_between(both, start, last_row)
    a, b = both.iloc[:, 0].to_numpy(dtype=float), both.iloc[:, 1].to_numpy(dtype=float)
    _, length = best_windows(a, b, max_days)
    k = int(length[last_row]) or 1
    return move_between(both, max(0, last_row - k), last_row)


def percentile(values: npt.NDArray[np.float64], value: float) -> float:
    """Share of ``values`` at or below ``value``, in % (where today's reading stands in its own history)."""
    finite = values[np.isfinite(values)]
    return float((finite <= value).mean() * 100.0) if len(finite) else float("nan")


def outcome_word(after: float | None, gap_at_detection: float) -> str:
    """What the gap did after an episode was known: "extended" (widened further), "kept" (gave back less than
    half), "given back" (half or more), or "open" (the horizon has not passed)."""
    if after is None:
        return "open"
    if after > 0:
        return "extended"
    return "kept" if after > -gap_at_detection / 2 else "given back"


__all__ = [
    "MAX_HELD_SHARE",
    "MERGE_DAYS",
    "SHARE_CLOSES",
    "Episode",
    "Move",
    "best_windows",
    "current_move",
    "episodes",
    "held_share",
    "move_between",
    "outcome_word",
    "percentile",
]
