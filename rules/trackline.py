"""How a track record reads in one line (the alert's), and a sweep's records tested as one family.

Apart from rules/track.py, which computes the records, so that each module stays one subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rules.track import HorizonSummary, TrackRecord
from rules.words import adjusted, format_move, headline_horizon, horizon_label, name, odds_phrase


def across(records: Sequence[TrackRecord | None], horizon: int) -> list[TrackRecord | None]:
    """The records of a sweep, each value's test at ``horizon`` adjusted with every other value's
    (Benjamini–Hochberg): the best of twenty values tried at p = 0.04 is what twenty tries of chance give."""

    def at(r: TrackRecord | None) -> HorizonSummary | None:
        return r.summary(horizon) if r is not None and horizon in r.horizons else None

    ps = adjusted([s.chance.p_value if (s := at(r)) is not None else None for r in records])
    m = sum(p is not None for p in ps)
    out: list[TrackRecord | None] = []
    for r, p in zip(records, ps, strict=True):
        if r is None or p is None:
            out.append(r)
            continue
        summaries = tuple(
            replace(s, chance=replace(s.chance, p_adjusted=p, family=m)) if s.horizon == horizon else s
            for s in r.summaries
        )
        out.append(replace(r, summaries=summaries))
    return out


def what_rose(record: TrackRecord) -> str:
    if record.benchmark:
        return f"{name(record.symbol)} beat {name(record.benchmark)}"
    return f"{name(record.symbol)} rose"


def summary_line(record: TrackRecord, horizon: int | None = None) -> str:
    """One line for an alert, always with its n and its base rate, every figure of the sample tested:
    "Fired 8× since 1987; the Russell 2000 beat the S&P 500 over the next 3 months after 4 of 7 firings
    (57%); on any day: 48% — too few firings to tell (…). Median +2.8 pt (any day −0.3 pt)."."""
    h = horizon if horizon is not None and horizon in record.horizons else headline_horizon(record.horizons)
    since = f" since {record.since.year}" if record.since else ""
    if not record.firings:
        return f"Never fired{since} (n = 0)."
    head = f"Fired {len(record.firings)}×{since}"
    s = record.summary(h)
    label = horizon_label(h)
    if s.n == 0:
        return f"{head}; no firing has a full {label} behind it yet ({s.open} open, n = 0)."
    c = s.chance
    odds = odds_phrase(c.odds(s.n, s.positive), h)
    median = median_words(s, record.unit)
    tail = f" {s.open} still open." if s.open else ""
    return f"{head}; {what_rose(record)} over the next {label} after {odds}. {median}.{tail}"


def median_words(s: HorizonSummary, unit: str) -> str:
    """ "Median +2.8 pt (any day −0.3 pt)", of the sample tested: "Median of the 7: +3.0 pt (…)" when the
    firings a horizon apart are fewer than all of them."""
    c = s.chance
    if c.tested_median is not None and c.independent < s.n:
        text = f"Median of the {c.independent}: {format_move(c.tested_median, unit)}"
    else:
        text = f"Median {format_move(s.median, unit)}"
    return text + (f" (any day {format_move(c.base_median, unit)})" if c.base_median is not None else "")


__all__ = ["across", "median_words", "summary_line", "what_rose"]
