"""Vectorised arithmetic shared by the metrics.

A moving average is taken over each symbol's *own* rows: a day on which one symbol has no price
(a halt, a late listing, a gap in the source) must not shorten or break its window. The common
case — no interior gaps — is one cumulative sum over the whole 2-D array; only gappy columns
fall back to a per-column pass.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def _contiguous(valid: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Per column: True when the valid rows form one unbroken run."""
    rising = np.diff(valid.astype(np.int8), axis=0, prepend=0) == 1
    return np.asarray(rising.sum(axis=0) <= 1)


def rolling_mean(values: Array, window: int) -> Array:
    """Simple moving average over each column's own non-NaN rows.

    The result is NaN where the column has no value that day or fewer than ``window`` values so
    far, so callers can count how many members were excluded for lack of history.
    """
    if values.ndim == 1:
        return rolling_mean(values[:, None], window)[:, 0]
    n_rows, n_cols = values.shape
    out = np.full((n_rows, n_cols), np.nan)
    if n_rows == 0 or n_cols == 0:
        return out
    valid = ~np.isnan(values)
    simple = _contiguous(valid)
    if simple.any() and n_rows >= window:
        # One cumulative sum for every gap-free column. A column's valid rows form a single run, so a
        # window is full exactly when its first and last rows are valid: no second (count) cumsum.
        # Few large temporaries: first-touch page faults dominate a cold 25-year × 500-member call.
        every = bool(simple.all())
        block = values if every else values[:, simple]
        ok = valid if every else valid[:, simple]
        csum = np.zeros((n_rows + 1, block.shape[1]))
        np.cumsum(np.where(ok, block, 0.0), axis=0, out=csum[1:])
        sums = csum[window:] - csum[:-window]
        sums /= window
        full = ok[window - 1 :] & ok[: n_rows - window + 1]
        mean = np.where(full, sums, np.nan)
        if every:
            out[window - 1 :] = mean
        else:
            out[window - 1 :, simple] = mean
    for col in np.flatnonzero(~simple):
        rows = np.flatnonzero(valid[:, col])
        own = values[rows, col]
        if own.size >= window:
            c = np.concatenate([[0.0], np.cumsum(own)])
            means = (c[window:] - c[:-window]) / window
            out[rows[window - 1 :], col] = means
    return out


def pct_change(values: Array, days: int) -> Array:
    """Percent change over ``days`` observations of a 1-D series without gaps."""
    out = np.full(values.shape, np.nan)
    if values.size > days:
        out[days:] = (values[days:] / values[:-days] - 1.0) * 100.0
    return out
