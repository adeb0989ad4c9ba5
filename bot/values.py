"""Loose values from the outside made exact: numbers from CSV cells, SQLite rows and frames, and tickers.

The ``iso_*`` checks return the value unchanged or raise ``ValueError`` with a sentence naming it; the
CSV loader reports that sentence with the cell's place, and the store refuses the same values, so a
date nobody can parse never reaches the pandas code that reads it back.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

# Yahoo's spelling: letters, digits and ^ . = _ - (^GSPC, BRK-B, ES=F); no spaces, slashes or quotes.
SYMBOL = re.compile(r"[A-Z0-9^][A-Z0-9^.=_-]{0,19}")

# The days a stored date may name: well before the first close of any index (1927) and well within what pandas
# and date arithmetic can hold (a look-back from 0001-01-01 overflows; pandas' clock ends in 2262), so a typo such
# as 0001-01-01 or 9999-12-31 is refused where it enters instead of crashing every later check.
FIRST_DAY, LAST_DAY = dt.date(1800, 1, 1), dt.date(2199, 12, 31)


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


def is_symbol(value: object) -> bool:
    """Could this be a ticker as the store spells it (after ``yahoo_symbol``)?"""
    return isinstance(value, str) and SYMBOL.fullmatch(value) is not None


def _written(value: object, canonical: Callable[[str], str], example: str) -> str:
    """``value`` if it is a string already written the way ``canonical`` writes it, else ``ValueError``."""
    try:
        if isinstance(value, str) and canonical(value) == value:
            return value
    except ValueError:
        pass
    raise ValueError(f'expected {example}, got "{value}"')


def iso_date(value: object) -> str:
    """``value`` if it is a date written ``YYYY-MM-DD`` from ``FIRST_DAY`` to ``LAST_DAY``, else ``ValueError``."""
    day = _written(value, lambda s: dt.date.fromisoformat(s).isoformat(), "a date like 2024-07-11")
    if not FIRST_DAY.isoformat() <= day <= LAST_DAY.isoformat():
        raise ValueError(f'expected a day from {FIRST_DAY} to {LAST_DAY}, got "{value}"')
    return day


def iso_month(value: object) -> str:
    """``value`` if it is a month written ``YYYY-MM`` from ``FIRST_DAY``'s to ``LAST_DAY``'s, else ``ValueError``."""
    month = _written(value, lambda s: dt.date.fromisoformat(s + "-01").isoformat()[:7], "a month like 2024-06")
    first, last = FIRST_DAY.isoformat()[:7], LAST_DAY.isoformat()[:7]
    if not first <= month <= last:
        raise ValueError(f'expected a month from {first} to {last}, got "{value}"')
    return month


def hh_mm(value: object) -> str:
    """``value`` if it is a time of day written ``HH:MM``, else ``ValueError``."""
    return _written(value, lambda s: dt.time.fromisoformat(s).isoformat(timespec="minutes"), "a time like 08:30")


def finite(value: object, positive: bool = False) -> float:
    """``value`` as a finite float (and above zero if ``positive``), else ``ValueError``."""
    f = as_float(value) if not isinstance(value, bool) else None
    if f is None or (positive and f <= 0):
        raise ValueError(f'expected a {"positive " if positive else ""}number, got "{value}"')
    return f


def counted(n: int, word: str, many: str | None = None) -> str:
    """ "1 symbol", "2 symbols": a count with its noun agreeing (``many`` for irregular plurals: series)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def secret_url(value: str) -> str:
    """An http(s) URL with a host; the error never repeats it, since whoever has such a URL can use it."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("expected an http:// or https:// URL such as https://hc-ping.com/<uuid> (not shown: a secret)")
    return value
