"""The sweep as a picture: firings per year and the median forward move against the swept value.

A user picks a threshold from evidence: where the firings drop to a handful a year while the
median move after them stays positive. Drawn with matplotlib's object API, as bot/answers/charts.py.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.answers.charts import DPI, SIZE_INCHES
from bot.history import Variant


def sweep_chart(rule: str, keys: Sequence[str], variants: Sequence[Variant]) -> bytes:
    """PNG: per value of the first key (one line per value of a second key), two panels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    groups: dict[object, list[Variant]] = {}
    for v in variants:
        groups.setdefault(v.edits[keys[1]] if len(keys) > 1 else None, []).append(v)
    for group, members in groups.items():
        xs = [float(v.edits[keys[0]]) for v in members]
        years = [max(1.0, _years(v)) for v in members]
        per_year = [len(v.firings) / y for v, y in zip(members, years, strict=True)]
        busiest = [v.most_in_a_year[0] for v in members]
        medians = [v.outcome()[2] for v in members]
        name = f"{keys[1]}={group}" if group is not None else ""
        top.plot(xs, per_year, marker="o", label=f"per year {name}".strip())
        top.plot(xs, busiest, marker="^", linestyle="--", label=f"most in one year {name}".strip())
        bottom.plot(xs, [m if m is not None else float("nan") for m in medians], marker="o", label=name or None)
    unit = next((v.record.unit for v in variants if v.record), "")
    top.set_ylabel("firings")
    top.set_title(f"{rule}: sweep of {' × '.join(keys)}", loc="left", fontsize=14)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    bottom.axhline(0, color="grey", linewidth=0.8)
    bottom.set_ylabel(f"median move after 3 months ({unit})")
    bottom.set_xlabel(keys[0])
    if len(groups) > 1:
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _years(v: Variant) -> float:
    if v.record is None or v.record.since is None or v.record.as_of is None:
        return 1.0
    return (v.record.as_of - v.record.since).days / 365.25
