"""Stale data, defined once: a symbol is stale on a day when the store has no close for it on that day.

``rotation-bot status`` and /status ask it of the session whose close should be in by now, the
digest of the day it describes, the daily job of the session it is about to check (waiting for
the stragglers). Each says so in its own words, but they can never disagree about what is stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from bot.calendar import daily_slot
from bot.config import Config
from bot.store import Store


def expected_close(now: dt.datetime, config: Config) -> dt.date | None:
    """The latest session whose close should be in the store by ``now`` (its daily check time has passed)."""
    slot = daily_slot(now, config)
    return slot.day if slot else None


def expected_close_on(day: dt.date, config: Config) -> dt.date | None:
    """``expected_close`` at the start of ``day`` (local time): the last session before it."""
    tz = ZoneInfo(config.settings.schedule.timezone)
    return expected_close(dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz), config)


def stale_symbols(store: Store, symbols: Iterable[str], day: dt.date) -> dict[str, dt.date | None]:
    """The symbols without a close on ``day``, with their last close (None: never stored), by name."""
    names = sorted(set(symbols))
    last = store.last_dates(names)
    return {s: last.get(s) for s in names if s not in last or last[s] < day}
