"""CPI releases as the rule engine sees them: one row per release day with actual and expected.

The actual is the figure as first published on the release morning, because that is what the
market reacted to and what the consensus was a forecast of; later revisions (seasonal factors are
revised every February) must not flip a past surprise. Sources, best first: the first-published
actual from a consensus calendar file, then the earliest stored vintage of the index levels that
contains the month, then the latest levels. Consensus comes from config.toml (wins) or the store.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bot.config import Config
from bot.store import Store
from rules.data import CPI_MEASURES

SERIES = {"headline": "CPIAUCSL", "core": "CPILFESL"}


def _levels(store: Store, series: str) -> pd.DataFrame:
    """Index levels: month × vintage (columns sorted so the earliest vintage comes first, 'latest' last)."""
    rows = store.db.execute(
        "SELECT month, vintage, value FROM cpi_observations WHERE series = ? AND value IS NOT NULL", [series]
    ).fetchall()
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows, columns=["month", "vintage", "value"]).pivot(
        index="month", columns="vintage", values="value"
    )
    cols = sorted(c for c in frame.columns if c != "latest") + (["latest"] if "latest" in frame.columns else [])
    return frame[cols].sort_index()


def computed_actuals(levels: pd.Series) -> pd.DataFrame:
    """MoM and YoY percent changes of a monthly level series, rounded to 0.1 as BLS publishes them."""
    idx = pd.PeriodIndex(levels.index, freq="M")
    s = pd.Series(levels.to_numpy(dtype=float), index=idx).sort_index()
    s = s.reindex(pd.period_range(s.index.min(), s.index.max(), freq="M"))
    mom = (s / s.shift(1) - 1) * 100
    yoy = (s / s.shift(12) - 1) * 100
    out = pd.DataFrame({"mom": mom.round(1), "yoy": yoy.round(1)})
    out.index = pd.Index([str(p) for p in out.index])
    return out


def _point_in_time(frame: pd.DataFrame) -> pd.Series:
    """Per month, the level from the earliest vintage that has it (first release where we have it)."""
    if frame.empty:
        return pd.Series(dtype=float)
    return frame.bfill(axis=1).iloc[:, 0]


def cpi_frame(store: Store, config: Config, end: dt.date | None = None) -> pd.DataFrame | None:
    """The ``MarketData.cpi`` frame: index release date; month, actual_*, expected_*, naive_* columns."""
    releases = store.db.execute("SELECT month, release_date FROM cpi_releases ORDER BY month").fetchall()
    if not releases:
        return None
    rel = pd.DataFrame(releases, columns=["month", "release_date"]).set_index("month")
    out = pd.DataFrame(index=rel.index)
    out["release_date"] = pd.to_datetime(rel["release_date"])
    for kind, series in SERIES.items():
        levels = _point_in_time(_levels(store, series))
        if levels.empty:
            for span in ("mom", "yoy"):
                out[f"actual_{kind}_{span}"] = np.nan
            continue
        acts = computed_actuals(levels)
        for span in ("mom", "yoy"):
            out[f"actual_{kind}_{span}"] = acts[span].reindex(out.index)
    consensus = store.db.execute("SELECT month, measure, expected, actual FROM cpi_consensus").fetchall()
    cons = pd.DataFrame(consensus, columns=["month", "measure", "expected", "actual"])
    for m in CPI_MEASURES:
        part = cons[cons["measure"] == m].set_index("month")
        first = part["actual"].reindex(out.index)
        out[f"actual_{m}"] = first.where(first.notna(), out[f"actual_{m}"])
        out[f"expected_{m}"] = part["expected"].reindex(out.index).astype(float)
    for c in config.settings.cpi.consensus:
        if c.month in out.index:
            out.loc[c.month, f"expected_{c.measure}"] = c.expected
    for m in CPI_MEASURES:
        out[f"naive_{m}"] = out[f"actual_{m}"].shift(1).rolling(3, min_periods=3).mean().round(2)
    out["month"] = out.index
    out = out.set_index("release_date").sort_index()
    if end is not None:
        out = out.loc[: pd.Timestamp(end)]
    return out
