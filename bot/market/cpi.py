"""CPI releases as the rule engine sees them: one row per release day with actual and expected.

The actual is the figure as first published on the release morning, because that is what the
market reacted to and what the consensus was a forecast of; later revisions (seasonal factors are
revised every February) must not flip a past surprise. Sources, best first: the first-published
actual from a consensus calendar file, then the earliest stored vintage of the index levels that
contains the month, then the latest levels. Consensus comes from config.toml (wins) or the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bot.config import Config
from bot.errors import FETCH_CPI
from bot.store import Store
from bot.values import as_float, iso_month
from rules import CPI_MEASURES, cpi_surprise

SERIES = {"headline": "CPIAUCSL", "core": "CPILFESL"}


def _levels(store: Store, series: str) -> pd.DataFrame:
    """Index levels: month × vintage (columns sorted so the earliest vintage comes first, 'latest' last)."""
    rows = store.cpi_levels(series)
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


def point_in_time_actuals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per month, MoM and YoY as computed from the earliest vintage that contains the month.

    Both the month and its base (the month before, the year before) come from that same vintage,
    which is what BLS published that morning; mixing a revised base with an unrevised month would
    invent changes nobody saw.
    """
    if frame.empty:
        return pd.DataFrame(columns=["mom", "yoy"], dtype=float)
    out: pd.DataFrame | None = None
    for vintage in frame.columns:
        levels = frame[vintage].dropna()
        if levels.empty:
            continue
        acts = computed_actuals(levels)
        out = acts if out is None else out.combine_first(acts)
    return out if out is not None else pd.DataFrame(columns=["mom", "yoy"], dtype=float)


def current_actuals(store: Store, month: str) -> dict[str, float]:
    """``month``'s MoM/YoY per measure from the latest vintage (what a chart shows today, revisions included)."""
    out: dict[str, float] = {}
    for kind, series in SERIES.items():
        levels = _levels(store, series)
        if "latest" not in levels.columns:
            continue
        acts = computed_actuals(levels["latest"].dropna())
        if month in acts.index:
            for span in ("mom", "yoy"):
                v = as_float(acts.loc[month, span])
                if v is not None:
                    out[f"{kind}_{span}"] = v
    return out


def cpi_frame(store: Store, config: Config, end: dt.date | None = None) -> pd.DataFrame | None:
    """The ``MarketData.cpi`` frame: index release date; month, actual_*, expected_*, naive_* columns."""
    releases = [(month, day) for month, day, _time in store.cpi_releases()]
    if not releases:
        return None
    rel = pd.DataFrame(releases, columns=["month", "release_date"]).set_index("month")
    out = pd.DataFrame(index=rel.index)
    out["release_date"] = pd.to_datetime(rel["release_date"])
    for kind, series in SERIES.items():
        acts = point_in_time_actuals(_levels(store, series))
        for span in ("mom", "yoy"):
            out[f"actual_{kind}_{span}"] = acts[span].reindex(out.index).astype(float) if not acts.empty else np.nan
    consensus = store.consensus_rows()
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


# --- consensus: config, the admin command, and what /cpi shows ------------------------------------

CONSENSUS_USAGE = "Usage: /consensus YYYY-MM MEASURE PERCENT  (MEASURE: " + ", ".join(CPI_MEASURES) + ")"


@dataclass(frozen=True)
class ConsensusEntry:
    month: str
    measure: str
    expected: float


def parse_consensus_args(args: Sequence[str]) -> ConsensusEntry:
    """``/consensus 2024-06 headline_yoy 3.1`` → an entry; ``ValueError`` whose text is the reply on bad input."""
    if len(args) != 3:
        raise ValueError(CONSENSUS_USAGE)
    month, measure, value = (a.strip() for a in args)
    try:
        iso_month(month)
    except ValueError as exc:
        raise ValueError(f"{exc}. {CONSENSUS_USAGE}") from None
    if measure not in CPI_MEASURES:
        raise ValueError(f'unknown measure "{measure}". {CONSENSUS_USAGE}')
    try:
        expected = float(value.rstrip("%").replace(",", "."))
    except ValueError:
        raise ValueError(f'expected a percent like 3.1, got "{value}". {CONSENSUS_USAGE}') from None
    if not -50 < expected < 50:
        raise ValueError(f"{expected} is not a plausible CPI change in percent. {CONSENSUS_USAGE}")
    return ConsensusEntry(month, measure, expected)


def set_consensus(store: Store, entry: ConsensusEntry) -> None:
    """Store an admin's consensus forecast (``/consensus``); config.toml entries still win over it.

    Takes the entry ``parse_consensus_args`` made, so the arguments are parsed and judged once, in one place.
    """
    store.set_consensus_expected(entry.month, entry.measure, entry.expected, source="admin")


def cpi_summary(store: Store, config: Config, today: dt.date | None = None) -> dict[str, Any]:
    """What /cpi and ``rotation-bot status`` show: the latest release, its surprises, and the next release.

    Where no consensus is known the surprise is ``None`` with ``consensus: "missing"``; the naive
    expectation (prior three-month average) is shown beside it, labelled, never silently used.
    """
    today = today or dt.date.today()
    frame = cpi_frame(store, config, end=today)
    releases = store.cpi_releases()
    upcoming = [(m, d, t) for m, d, t in releases if dt.date.fromisoformat(d) > today]
    out: dict[str, Any] = {
        "latest": None,
        "next_release": {"month": upcoming[0][0], "date": upcoming[0][1], "time": upcoming[0][2]} if upcoming else None,
        "measures": {},
        "notes": [],
    }
    if not releases:
        out["notes"].append(
            "no CPI release calendar stored: load release_dates.csv (`rotation-bot fetch --source csv --path DIR`, "
            "DIR the folder holding it) or set [cpi] release_dates"
        )
    elif not upcoming:
        out["notes"].append(
            f"the CPI release calendar ends on {releases[-1][1]}: add the coming BLS dates ([cpi] release_dates), "
            "or CPI checks stop"
        )
    if frame is None or frame.empty:
        return out
    have = frame.dropna(subset=[f"actual_{m}" for m in CPI_MEASURES], how="all")
    if have.empty:
        out["notes"].append(f"no CPI figures stored yet: {FETCH_CPI}")
        return out
    row = have.iloc[-1]
    month = str(row["month"])
    out["latest"] = {"month": month, "release_date": have.index[-1].date().isoformat()}
    current = current_actuals(store, month)
    for m in CPI_MEASURES:
        actual, expected, naive = (
            as_float(row[f"actual_{m}"]),
            as_float(row[f"expected_{m}"]),
            as_float(row[f"naive_{m}"]),
        )
        now = current.get(m)
        out["measures"][m] = {
            "actual": actual,
            "expected": expected,
            "surprise": cpi_surprise(actual, expected) if actual is not None and expected is not None else None,
            "consensus": "given" if expected is not None else "missing",
            "naive_expected": naive,
            # today's (revised) figure, only when it differs from the first release the surprise uses
            "current": now if now is not None and actual is not None and abs(now - actual) >= 0.05 else None,
        }
    missing = [m for m, v in out["measures"].items() if v["consensus"] == "missing"]
    if missing:
        out["notes"].append(
            f"no consensus for {out['latest']['month']} {', '.join(missing)}: add [[cpi.consensus]] to config.toml or "
            'use /consensus; rules use the naive prior-3-month average only with fallback = "naive"'
        )
    return out
