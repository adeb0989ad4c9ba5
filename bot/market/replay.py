"""Which days to load, and replays over stored history: the one place that turns "N trading days
of look-back" into a date range, shared by the daily check, replays, charts, the digest and the views.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from bot.calendar import calendar_days
from bot.config import Config
from bot.errors import FETCH_FIRST, StoreError
from bot.market.data import load_market_data
from bot.store import Store
from rules import Replay, Rule, lookback_days, replay

# A year of warm-up before the first evaluated day of a new rule: its state (crossed? for how long?)
# starts from a real history, not from nothing.
WARM_UP = dt.timedelta(days=400)
# A year and a bit: enough for the views' one-year change.
YEAR_BACK = dt.timedelta(days=380)


def load_start(first_day: dt.date, trading_days: int, also: dt.timedelta = dt.timedelta(0)) -> dt.date:
    """The first day to load so that ``first_day`` has ``trading_days`` sessions of history, and ``also`` more.

    A look-back from the first days of the calendar (``replay --from 0001-01-01``) starts at its first day.
    """
    try:
        return first_day - calendar_days(trading_days) - also
    except OverflowError:
        return dt.date.min


def rules_start(rules: Sequence[Rule], first_day: dt.date, *, warm_up: bool = False) -> dt.date:
    """The first day to load so that every rule can be evaluated from ``first_day`` on."""
    return load_start(first_day, lookback_days(rules), WARM_UP if warm_up else dt.timedelta(0))


def require_prices(store: Store, rules: Sequence[Rule]) -> None:
    """Rules that read prices need some (CPI rules read releases, and say so themselves when there are none)."""
    if any(r.symbols or r.universes for r in rules) and store.count_prices() == 0:
        raise StoreError(f"the store {store.path} holds no prices yet: {FETCH_FIRST}")


def require_data_by(store: Store, rules: Sequence[Rule], day: dt.date) -> None:
    """A day before every rule's data begins is a mistake worth one clear line, not a per-rule error."""
    symbols = sorted(set().union(*(r.symbols for r in rules))) if rules else []
    first = store.first_dates(symbols)
    if first and min(first.values()) > day:
        raise StoreError(f"no prices on or before {day}: the rules' data starts on {min(first.values())}")


def default_as_of(store: Store, rules: Sequence[Rule]) -> dt.date:
    """The latest close of the rules' symbols (of any symbol when they name none; the latest CPI release for
    CPI rules on a store without prices)."""
    symbols = sorted(set().union(*(r.symbols for r in rules))) if rules else []
    latest = store.latest_date(symbols) if symbols else None
    latest = latest or store.latest_date()
    if latest is None and rules and all(r.metric.uses_cpi for r in rules):
        latest = store.last_release_date(dt.date.today())  # CPI rules alone: the latest release
    if latest is None:
        raise StoreError(f"the store {store.path} holds no prices yet: {FETCH_FIRST}")
    return latest


def enabled_rules(config: Config, names: Sequence[str] | None = None) -> list[Rule]:
    """The enabled rules, or just the named ones (an unknown name is one clear error)."""
    rules = [r for r in config.rules if r.spec.enabled]
    if names:
        unknown = sorted(set(names) - {r.name for r in rules})
        if unknown:
            raise StoreError(f"no rule named {', '.join(unknown)}; see `rotation-bot rules list`")
        rules = [r for r in rules if r.name in names]
    return rules


def run_replay(
    store: Store,
    config: Config,
    start: dt.date,
    end: dt.date | None = None,
    rule_names: Sequence[str] | None = None,
) -> tuple[Replay, float]:
    """Every alert the rules would have sent between ``start`` and ``end``, with the time it took."""
    t0 = time.perf_counter()
    rules = enabled_rules(config, rule_names)
    require_prices(store, rules)
    end = end or default_as_of(store, rules)
    require_data_by(store, rules, end)  # a range before all the data is one clear line, not a warning per rule
    data = load_market_data(store, config, rules, end=end, start=rules_start(rules, start, warm_up=True))
    result = replay(rules, data, start, end)
    return result, time.perf_counter() - t0
