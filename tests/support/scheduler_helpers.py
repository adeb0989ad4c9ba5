"""A fake clock, a recording fetcher, and a small config and price history for the scheduler tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from bot.config.reload import ConfigHolder
from bot.config.settings import Config
from bot.jobs.scheduler import BotScheduler
from bot.store.db import Store

NY = ZoneInfo("America/New_York")

CONFIG = """
[store]
path = "s.sqlite"

[[rules]]
name = "r1"
metric = "ratio"
numerator = "AAA"
denominator = "BBB"
condition = "crosses_above"
threshold = {threshold}
"""


def et(y: int, m: int, d: int, hh: int = 18, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=NY)


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


def write_config(path: Path, threshold: str = "0.4", extra: str = "") -> None:
    path.write_text(CONFIG.format(threshold=threshold) + extra)


def seed_prices(store: Store, last: str = "2024-07-26") -> None:
    """AAA/BBB ratio 0.38 every day, then 0.41 on the last day: r1 (0.4) fires on ``last``."""
    days = pd.bdate_range("2023-06-01", last, name="date")
    ratio = np.full(len(days), 0.38)
    ratio[-1] = 0.41
    bbb = np.full(len(days), 100.0)
    store.upsert_prices("BBB", pd.DataFrame({"close": bbb, "adj_close": bbb}, index=days))
    store.upsert_prices("AAA", pd.DataFrame({"close": ratio * 100, "adj_close": ratio * 100}, index=days))


class Fetch:
    """A fetcher that records calls; can raise or ask for a stop."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: Exception | None = None
        self.on_call: list[object] = []

    def __call__(self, store: Store, config: Config) -> object:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return None


def mark_done(store: Store, kind: str, when: dt.datetime) -> None:
    store.set_meta(f"scheduler.{kind}.done", when.astimezone(dt.UTC).isoformat())


def friday_scheduler(
    tmp_path: Path, extra: str = "", error: Exception | None = None, store_keys: str = ""
) -> tuple[BotScheduler, Store, Fetch]:
    """A scheduler due to run Friday 2024-07-26's daily job (r1 fires), with ``extra`` config and ``store_keys``
    in [store]."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    write_config(path, extra=extra)
    path.write_text(path.read_text().replace('path = "s.sqlite"\n', f'path = "s.sqlite"\n{store_keys}'))
    holder = ConfigHolder.load(path)
    store = Store(holder.config.store_path)
    seed_prices(store)
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    prices = Fetch()
    prices.error = error
    return BotScheduler(holder, now=Clock(et(2024, 7, 26, 17, 31)), fetch_prices=prices), store, prices
