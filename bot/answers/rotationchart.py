"""The rotation as a picture: the Russell 2000 / S&P 500 ratio with every rotation shaded and today's move
highlighted, over all history and over the last year (matplotlib's object API, as bot/answers/charts.py).

The data is the view's own (cut at its as-of day), so the chart can show nothing the text does not.
"""

from __future__ import annotations

import io

import pandas as pd

from bot.answers.charts import DPI
from bot.market import RotationView

SIZE_INCHES = (9.0, 7.5)


def rotation_chart(view: RotationView) -> bytes:
    """PNG: the view's ratio (^RUT/^GSPC closes up to its as-of day), episodes shaded, the move now in red."""
    ratio = view.series
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    whole, recent = fig.subplots(2, 1, height_ratios=(3, 2))
    last_year = ratio.loc[pd.Timestamp(view.as_of) - pd.DateOffset(years=1) :]
    for ax, series in ((whole, ratio), (recent, last_year)):
        ax.plot(series.index, series.to_numpy(), color="#1f4e79", linewidth=1.0)
        lo = series.index[0]
        for i, e in enumerate(view.precedents):
            if pd.Timestamp(e.move.end) < lo:
                continue
            ax.axvspan(
                pd.Timestamp(e.move.start),
                pd.Timestamp(e.move.end),
                color="orange",
                alpha=0.3,
                linewidth=0,
                label="earlier rotations" if i == len(view.precedents) - 1 else None,
            )
        ax.axvspan(
            pd.Timestamp(view.move.start),
            pd.Timestamp(view.move.end),
            color="red",
            alpha=0.35,
            linewidth=0,
            label=f"now: gap {view.move.gap:+.1f} pt since {view.move.start}",
        )
        for key in view.ratio.extra:
            if key.startswith("distance_to_"):
                ax.axhline(float(key.removeprefix("distance_to_")), color="grey", linestyle="--", linewidth=0.8)
        ax.set_ylabel("^RUT / ^GSPC")
        ax.grid(alpha=0.3)
    whole.set_title(
        f"Small caps vs large caps, as of {view.as_of}: {len(view.precedents)} earlier rotations of "
        f"≥ {view.min_gap:g} pt within {view.max_days} days",
        loc="left",
        fontsize=12,
    )
    whole.legend(loc="upper right", fontsize=9)
    recent.set_title("the last year", loc="left", fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
