"""The sweep as a picture: firings per year, the hit rate and the median forward move against the swept value,
each beside what any day gave (the base rate) with its 95% band.

A user picks a threshold from evidence: where the firings drop to a handful a year while the hit rate's band
stays clear of the any-day line. Dots and bands are of the sample tested (firings a horizon apart), and each dot
carries its verdict (better, worse, no diff., too few), adjusted for the values tried together.
Drawn with matplotlib's object API, as bot/answers/charts.py.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from bot.answers.charts import DPI
from bot.market import Variant
from rules import HorizonSummary

SIZE_INCHES = (9.0, 8.0)  # three panels: taller than a metric chart


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def sweep_chart(rule: str, keys: Sequence[str], variants: Sequence[Variant]) -> bytes:
    """PNG: per value of the first key (one line per value of a second key, one colour in every panel)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, middle, bottom = fig.subplots(3, 1, sharex=True)
    groups: dict[object, list[Variant]] = {}
    for v in variants:
        groups.setdefault(v.edits[keys[1]] if len(keys) > 1 else None, []).append(v)
    for i, (group, members) in enumerate(groups.items()):
        colour = f"C{i % 10}"
        name = f"{keys[1]}={group}" if group is not None else ""
        xs = [float(v.edits[keys[0]]) for v in members]
        per_year = [len(v.firings) / max(1.0, _years(v)) for v in members]
        top.plot(xs, per_year, marker="o", color=colour, label=f"per year {name}".strip())
        top.plot(xs, [v.most_in_a_year[0] for v in members], marker="^", linestyle="--", color=colour, alpha=0.6)
        summaries = [v.summary if v.summary is not None and v.summary.n else None for v in members]
        # the sample tested (firings a horizon apart), as the bands and the verdict are of it
        rate = [_nan(_tested_share(s)) for s in summaries]
        low = [_nan(s.chance.rate_low) * 100 if s else math.nan for s in summaries]
        high = [_nan(s.chance.rate_high) * 100 if s else math.nan for s in summaries]
        middle.plot(xs, rate, marker="o", color=colour, label=name or "firings")
        middle.fill_between(xs, low, high, color=colour, alpha=0.15, linewidth=0)
        for x, y, s in zip(xs, rate, summaries, strict=True):
            if s is not None and s.chance.verdict is not None and not math.isnan(y):
                middle.annotate(
                    VERDICT_MARK[s.chance.verdict],
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=7,
                    color=colour,
                )
        median = [_nan(_tested_median(s)) for s in summaries]
        mlow = [_nan(s.chance.median_low) if s else math.nan for s in summaries]
        mhigh = [_nan(s.chance.median_high) if s else math.nan for s in summaries]
        bottom.plot(xs, median, marker="o", color=colour, label=name or "firings")
        bottom.fill_between(xs, mlow, mhigh, color=colour, alpha=0.15, linewidth=0)
    base = next((v.summary.chance for v in variants if v.summary is not None and v.summary.chance.base_n), None)
    if base is not None and base.base_rate is not None:
        middle.axhline(base.base_rate * 100, color="black", linestyle=":", label=f"any day ({base.base_rate:.0%})")
    if base is not None and base.base_median is not None:
        bottom.axhline(base.base_median, color="black", linestyle=":", label=f"any day ({base.base_median:+.1f})")
    bottom.axhline(0, color="grey", linewidth=0.8)
    unit = next((v.record.unit for v in variants if v.record), "")
    top.set_ylabel("firings (▲ most in a year)")
    top.set_title(
        f"{rule}: sweep of {' × '.join(keys)} ({len(variants)} values tried, verdicts adjusted for all of them)",
        loc="left",
        fontsize=12,
    )
    middle.set_ylabel("% followed by a rise\n(3 months, tested firings, 95% band)")
    middle.set_ylim(0, 100)
    bottom.set_ylabel(f"median move ({unit})\n(3 months, 95% band)")
    bottom.set_xlabel(keys[0])
    for ax in (top, middle, bottom):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# Each value's verdict, drawn above its dot in the words of the table.
VERDICT_MARK = {"better": "better", "worse": "worse", "no_difference": "no diff.", "too_few": "too few"}


def _tested_share(s: HorizonSummary | None) -> float | None:
    if s is None or not s.chance.independent:
        return None
    return s.chance.independent_positive / s.chance.independent * 100


def _tested_median(s: HorizonSummary | None) -> float | None:
    if s is None:
        return None
    return s.chance.tested_median if s.chance.tested_median is not None else s.median


def _years(v: Variant) -> float:
    if v.record is None or v.record.since is None or v.record.as_of is None:
        return 1.0
    return (v.record.as_of - v.record.since).days / 365.25
