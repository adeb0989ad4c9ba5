"""Number helpers shared by the edges that read loose values (CSV cells, SQLite rows, frames)."""

from __future__ import annotations

import math


def as_float(value: object) -> float | None:
    """A finite float, or None for anything missing, non-numeric, NaN or infinite."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def short(value: float) -> str:
    """A value as a chart title or digest line shows it: 4 significant digits, thousands grouped above 1000."""
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
