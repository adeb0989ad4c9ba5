"""NYSE sessions (exchange-calendars): the daily job runs on trading days only, and the health check
knows which close should be in the store. Holidays come from the library, not from a list of ours."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import pandas as pd


@lru_cache(maxsize=8)
def _calendar(exchange: str, end_year: int) -> Any:
    """exchange-calendars builds a calendar to about a year ahead; one is built per year it must reach."""
    return xcals.get_calendar(exchange, end=f"{end_year}-12-31")


def is_trading_day(day: dt.date, exchange: str = "XNYS") -> bool:
    """A session of the exchange (holidays from exchange-calendars); weekdays before its first session."""
    cal = _calendar(exchange, max(day.year, dt.date.today().year) + 1)
    ts = pd.Timestamp(day)
    if cal.first_session <= ts <= cal.last_session:
        return bool(cal.is_session(ts))
    return day.weekday() < 5


def last_trading_day(day: dt.date, exchange: str = "XNYS") -> dt.date:
    """``day`` if it is a session, else the session before it."""
    for back in range(15):
        d = day - dt.timedelta(days=back)
        if is_trading_day(d, exchange):
            return d
    return day
