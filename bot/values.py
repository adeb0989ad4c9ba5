"""Loose values from the outside made exact: numbers from CSV cells, SQLite rows and frames, and tickers."""

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


def yahoo_symbol(ticker: str) -> str:
    """One spelling for every ticker that enters the store: index lists and file names write class
    shares with a dot (BRK.B), Yahoo with a dash (BRK-B); symbols are upper case."""
    return ticker.strip().upper().replace(".", "-")
