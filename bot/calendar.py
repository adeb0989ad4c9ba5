"""Market time, pure: NYSE sessions, the daily and CPI slots, and how far back a span of trading days reaches.

Holidays come from exchange-calendars, not from a list of ours; the library (and pandas with it)
is imported on the first question about a session, so commands that never ask start fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.config import Config

# Calendar days per trading day, with slack for holidays: turns "N trading days" into a date range.
CALENDAR_PER_TRADING_DAY = 1.5
CATCH_UP_DAYS = 10  # how far back a missed daily run is still caught up (once)
# A session's price may enter the store from this long before its close: today's from 04:00 New York time (a file
# written east of New York, a clock some hours off), never a later session's.
CLOSE_MARGIN = dt.timedelta(hours=12)
# The spans a chart can show, in calendar days (None: all history).
CHART_PERIODS: dict[str, int | None] = {"1y": 365, "5y": 5 * 365 + 1, "max": None}


def calendar_days(trading_days: int) -> dt.timedelta:
    """A date range sure to hold ``trading_days`` sessions (weekends and holidays included)."""
    return dt.timedelta(days=int(trading_days * CALENDAR_PER_TRADING_DAY) + 10)


@lru_cache(maxsize=8)
def _calendar(exchange: str, end_year: int) -> Any:
    """exchange-calendars builds a calendar to about a year ahead; one is built per year it must reach."""
    import exchange_calendars as xcals  # heavy (pandas): only when a session is asked about

    return xcals.get_calendar(exchange, end=f"{end_year}-12-31")


def is_trading_day(day: dt.date, exchange: str = "XNYS") -> bool:
    """A session of the exchange (holidays from exchange-calendars); weekdays before its first session."""
    import pandas as pd

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


def last_price_day(now: dt.datetime, exchange: str = "XNYS") -> dt.date:
    """The latest day a price may be dated at ``now``: the last session whose close is at most ``CLOSE_MARGIN``
    after ``now``. Ingest refuses a later one, so a typo such as 2030 cannot make every real day a look back."""
    import pandas as pd

    moment = pd.Timestamp(now.astimezone(dt.UTC) + CLOSE_MARGIN)
    cal = _calendar(exchange, max(moment.year, dt.date.today().year) + 1)
    closes = cal.closes
    if closes.iloc[0] <= moment <= closes.iloc[-1]:
        return closes.index[int(closes.searchsorted(moment, side="right")) - 1].date()  # type: ignore[no-any-return]
    # Outside the calendar's years: weekdays, closing at 16:00 in the exchange's time.
    return last_trading_day((moment.tz_convert(cal.tz) - pd.Timedelta(hours=16)).date(), exchange)


def at(day: dt.date, hhmm: str, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=tz)


@dataclass(frozen=True)
class Slot:
    """One scheduled run: which job, for which day, due when."""

    kind: str  # "daily" or "cpi"
    day: dt.date
    due: dt.datetime

    @property
    def key(self) -> str:
        """UTC ISO time: sorts correctly across DST and time-zone edits."""
        return self.due.astimezone(dt.UTC).isoformat()


def daily_slot(now: dt.datetime, config: Config) -> Slot | None:
    """The latest trading day whose daily check time has passed (within CATCH_UP_DAYS)."""
    sc = config.settings.schedule
    tz = ZoneInfo(sc.timezone)
    local = now.astimezone(tz)
    for back in range(CATCH_UP_DAYS + 1):
        day = local.date() - dt.timedelta(days=back)
        due = at(day, sc.daily_check, tz)
        if due <= local and is_trading_day(day, sc.exchange):
            return Slot("daily", day, due)
    return None


def cpi_slot(now: dt.datetime, config: Config, releases: Sequence[tuple[str, str, str]]) -> Slot | None:
    """The latest CPI release whose ``cpi_check`` time has passed (within CATCH_UP_DAYS), so a release
    missed while the bot was down, or one FRED published late, is still checked and sent."""
    sc = config.settings.schedule
    tz = ZoneInfo(sc.timezone)
    local = now.astimezone(tz)
    days = {d for _month, d, _time in releases}
    for back in range(CATCH_UP_DAYS + 1):
        day = local.date() - dt.timedelta(days=back)
        due = at(day, sc.cpi_check, tz)
        if due <= local and day.isoformat() in days:
            return Slot("cpi", day, due)
    return None
