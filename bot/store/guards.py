"""The store's last line of defence: a value its readers would choke on is refused at the write.

The CSV loader refuses bad cells with their file and line; these guards catch every other writer
(the live sources, config.toml, /consensus, a future importer) with a ``StoreError`` naming the value,
so a date nobody can parse never reaches the pandas code behind check, replay, /breadth or /cpi.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import StoreError
from bot.values import FIRST_DAY, LAST_DAY, finite, hh_mm, is_symbol, iso_date, iso_month
from rules import CPI_MEASURES


def _check(what: str, field: str, test: Callable[[object], object], value: object) -> None:
    try:
        test(value)
    except ValueError as exc:
        raise StoreError(f"refused {what}: {field}: {exc}") from None


def _symbol(value: object) -> object:
    if not is_symbol(value):
        raise ValueError(f'expected a ticker like BRK-B, got "{value}"')
    return value


def _measure(value: object) -> object:
    if value not in CPI_MEASURES:
        raise ValueError(f'unknown measure "{value}"; known: {", ".join(CPI_MEASURES)}')
    return value


def _optional(test: Callable[[object], object]) -> Callable[[object], object]:
    return lambda value: None if value is None else test(value)


def day_begun() -> dt.date:
    """The latest date on which a day has begun somewhere (UTC+14): the bound for a writer that names no session."""
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()


def guard_prices(
    symbol: str, dates: Any, close: npt.NDArray[Any], adj: npt.NDArray[Any], through: dt.date | None = None
) -> None:
    """Every date a day ``iso_date`` takes, none after ``through`` (the ingest's last session; default
    ``day_begun()``); NaN means missing; anything else must be a positive finite price."""
    _check(f"prices of {symbol!r}", "symbol", _symbol, symbol)
    days = np.asarray(dates, dtype=str)
    outside = (days < FIRST_DAY.isoformat()) | (days > LAST_DAY.isoformat())
    if outside.any():
        _check(f"price of {symbol}", "date", iso_date, str(days[int(np.flatnonzero(outside)[0])]))
    last = (through or day_begun()).isoformat()
    if (days > last).any():
        day = str(days[int(np.flatnonzero(days > last)[0])])
        raise StoreError(
            f"refused price of {symbol}: date: {day} is after the latest session ({last}): it has no close yet"
        )
    for name, values in (("close", close), ("adj_close", adj)):
        bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            _check(f"price of {symbol} on {dates[i]}", name, lambda v: finite(v, positive=True), values[i])


def guard_member(universe: str, member: Mapping[str, Any]) -> None:
    _check(f"member of {universe}", "symbol", _symbol, member.get("symbol"))


def guard_span(universe: str, span: tuple[str, str, str | None]) -> None:
    what = f"membership span {span} of {universe}"
    symbol, start, end = span
    _check(what, "symbol", _symbol, symbol)
    _check(what, "start", iso_date, start)
    _check(what, "end", _optional(iso_date), end)
    if end is not None and end < start:
        raise StoreError(f"refused {what}: end {end} is before start {start}")


def guard_observation(series: str, vintage: str, month: str, value: float | None) -> None:
    what = f"{series} observation {month!r} (vintage {vintage!r})"
    _check(what, "month", iso_month, month)
    _check(what, "value", _optional(lambda v: finite(v, positive=True)), value)
    if vintage != "latest":
        _check(what, "vintage", iso_date, vintage)


def guard_release(row: tuple[str, str, str]) -> None:
    what = f"CPI release {row}"
    _check(what, "month", iso_month, row[0])
    _check(what, "release date", iso_date, row[1])
    _check(what, "release time", hh_mm, row[2])


def guard_consensus(row: Mapping[str, Any]) -> None:
    what = f"CPI consensus {dict(row)}"
    _check(what, "month", iso_month, row.get("month"))
    _check(what, "measure", _measure, row.get("measure"))
    _check(what, "expected", _optional(finite), row.get("expected"))
    _check(what, "actual", _optional(finite), row.get("actual"))
