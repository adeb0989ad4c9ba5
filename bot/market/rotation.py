"""Can the small-cap rotation continue? The move now, each of the column's signals against its own history,
and what followed every similar rotation — all as of one close, from the store.

Everything is cut at ``as_of`` before anything is computed: the prices, breadth, the CPI releases, the
episodes and the outcomes after them (a horizon that ends after ``as_of`` is open). ``as_of`` is the last close
of both indices by the day asked for, and every line is as of it: RSP/SPY on 2026-06-26 beside a header "as of
the close of 2026-06-23" (^RUT's last close) mixed two days. The precedents' outcomes
come with the same base rate and test of chance as every track record (rules/evidence.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bot.config import Config
from bot.errors import FETCH_FIRST, BotError, StoreError
from bot.market.cpi import cpi_summary
from bot.market.data import load_market_data
from bot.store import Store
from rules import (
    MAX_HELD_SHARE,
    BreadthParams,
    DataError,
    Episode,
    MarketData,
    Move,
    RatioParams,
    Rule,
    TrackRecord,
    breadth_frame,
    current_move,
    episodes,
    held_share,
    is_current,
    load_rules,
    move_between,
    percentile,
    track_record,
    usable_breadth,
)

LEADER, LAGGARD = "^RUT", "^GSPC"
EQUAL, CAP = "RSP", "SPY"
HORIZONS = (21, 63, 126)
WINDOWS = (5, 10, 21)  # trading days: the move over the last week, two weeks, month
PEAK_SINCE = dt.date(2020, 1, 1)  # "where the ratio stood at its post-2020 peak"
SMA_DAYS = 200
CACHE_NAME = "@rotation"  # its row in the track-record cache (no rule name starts with @)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """One signal's latest value and where it stands in its own history (percentile of every day since)."""

    date: dt.date
    value: float
    percentile: float
    since: dt.date
    extra: dict[str, float | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RotationView:
    as_of: dt.date
    min_gap: float
    max_days: int
    move: Move  # since --since (default: the start of the current episode)
    windows: tuple[Move, ...]  # the last 5, 10, 21 trading days
    current: Episode | None  # the episode under way, if any
    precedents: tuple[Episode, ...]  # every earlier episode, oldest first
    record: TrackRecord  # what followed each precedent's detection, with base rates
    ratio: Reading
    breadth: Reading | None
    equal_weight: Reading | None
    cpi: dict[str, object] | None
    missing: dict[str, str]  # signal → why it could not be read
    series: pd.Series  # ^RUT/^GSPC closes up to as_of, for the chart
    asked: dt.date | None = None  # the day asked for, when as_of (the last close of both) is earlier


def _pair(store: Store, as_of: dt.date | None) -> tuple[pd.DataFrame, MarketData]:
    first = store.first_dates([LEADER, LAGGARD])
    if len(first) < 2:
        raise StoreError(f"no prices stored for {LEADER} and {LAGGARD}: {FETCH_FIRST}")
    if as_of is not None and as_of < max(first.values()):
        # no later day named: an answer as of a day knows nothing after it, errors included
        raise StoreError(f"{LEADER} and {LAGGARD} have no closes by {as_of}: nothing to say (try a later --as-of)")
    close, adj = store.load_prices([LEADER, LAGGARD, EQUAL, CAP], end=as_of)
    both = close[[LEADER, LAGGARD]].dropna()
    if len(both) < 2:
        raise StoreError(f"{LEADER} and {LAGGARD} have fewer than two days in common by {as_of}: nothing to compare")
    end = both.index[-1]  # every other series is cut here too: one as-of day for every line
    return both, MarketData(close=close.loc[:end], adj_close=adj.loc[:end])


def _a_rotation(both: pd.DataFrame, min_gap: float, max_days: int) -> None:
    """Refuse a gap so ordinary that most days would be in a "rotation" (2 pt within 45 days: 58% since 1987)."""
    share = held_share(both, min_gap, max_days)
    if share is not None and share > MAX_HELD_SHARE:
        raise BotError(
            f"a lead of {min_gap:g} pt within {max_days} trading days held on {share:.0%} of the closes since "
            f"{both.index[0].date()}: most days would be in a rotation, so it tells nothing apart; ask for a wider "
            "gap or fewer days (--min-gap and --max-days, or [rotation] min_gap and max_days)"
        )


def _ratio(ratio: pd.Series, config: Config) -> Reading:
    value = float(ratio.iloc[-1])
    lines = sorted(
        {
            float(line)
            for r in config.rules
            if isinstance(r.params, RatioParams) and (r.params.numerator, r.params.denominator) == (LEADER, LAGGARD)
            for line in r.lines
        }
    ) or [0.4]
    extra: dict[str, float | str | None] = {f"distance_to_{line:g}": value - line for line in lines}
    recent = ratio.loc[pd.Timestamp(PEAK_SINCE) :]
    if len(recent):
        top = int(np.argmax(recent.to_numpy()))
        extra["peak_since_2020"] = float(recent.iloc[top])
        extra["peak_since_2020_date"] = recent.index[top].date().isoformat()
    return Reading(ratio.index[-1].date(), value, percentile(ratio.to_numpy(), value), ratio.index[0].date(), extra)


def _breadth(store: Store, config: Config, as_of: dt.date) -> Reading:
    rule = next(
        (r for r in config.rules if r.spec.metric == "breadth"),
        load_rules([{"name": "breadth", "metric": "breadth", "condition": "above", "threshold": 75}])[0],
    )
    assert isinstance(rule.params, BreadthParams)
    enabled = Rule(rule.spec.model_copy(update={"enabled": True}), rule.params)  # a disabled rule's data still counts
    data = load_market_data(store, config, [enabled], end=as_of)
    try:
        frame = usable_breadth(breadth_frame(data, rule.params)).dropna(subset=["value"])
    except DataError as exc:
        raise StoreError(str(exc)) from None
    if frame.empty:
        raise StoreError(f"no {rule.params.window}-day breadth of {rule.params.universe} by {as_of}")
    value = float(frame["value"].iloc[-1])
    extra: dict[str, float | str | None] = {
        "universe": rule.params.universe,
        "window": float(rule.params.window),
        "counted": float(frame["counted"].iloc[-1]),
    }
    pct = percentile(frame["value"].to_numpy(dtype=float), value)
    return Reading(frame.index[-1].date(), value, pct, frame.index[0].date(), extra)


def _equal_weight(data: MarketData) -> Reading:
    """RSP/SPY (adjusted closes: total return) against its own 200-day average, in % above or below it."""
    frame = data.prices("adj_close")
    if EQUAL not in frame or CAP not in frame:
        raise StoreError(f"no prices stored for {EQUAL} and {CAP}")
    ratio = (frame[EQUAL] / frame[CAP]).dropna()
    sma = ratio.rolling(SMA_DAYS).mean()
    distance = ((ratio / sma - 1.0) * 100.0).dropna()
    if distance.empty:
        raise StoreError(f"fewer than {SMA_DAYS} days of {EQUAL}/{CAP}")
    value = float(distance.iloc[-1])
    extra: dict[str, float | str | None] = {"ratio": float(ratio.iloc[-1]), "sma": float(sma.iloc[-1])}
    return Reading(
        distance.index[-1].date(), value, percentile(distance.to_numpy(), value), distance.index[0].date(), extra
    )


def _followed(
    store: Store,
    detected: list[dt.date],
    data: MarketData,
    as_of: dt.date,
    since: dt.date,
    params: tuple[float, int],
) -> TrackRecord:
    """What followed each precedent's detection, with base rates: cached like a rule's track record (per data
    version; one entry, the latest asked for), so asking again skips the tests of chance and their import."""
    key = hashlib.sha256(json.dumps([*params, as_of.isoformat(), [d.isoformat() for d in detected]]).encode())
    version = store.data_version()
    cached = store.cached_track(CACHE_NAME, key.hexdigest(), version)
    if cached is not None and is_current(cached):
        return TrackRecord.from_dict(cached)
    record = track_record(detected, data, (LEADER, LAGGARD), HORIZONS, as_of, since=since, rule="rotation")
    try:
        store.save_track(CACHE_NAME, key.hexdigest(), version, record.to_dict())
    except sqlite3.OperationalError as exc:  # a read-only or full store still answers, computing each time
        log.info("rotation: not cached (%s)", exc)
    return record


def rotation_view(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    min_gap: float | None = None,
    max_days: int | None = None,
) -> RotationView:
    """The whole answer as of the close of ``as_of`` (default: the last close of both indices)."""
    min_gap = config.settings.rotation.min_gap if min_gap is None else min_gap
    max_days = config.settings.rotation.max_days if max_days is None else max_days
    both, data = _pair(store, as_of)
    asked, as_of = as_of, both.index[-1].date()
    _a_rotation(both, min_gap, max_days)
    found = episodes(both, min_gap, max_days)
    current = found[-1] if found and found[-1].ongoing else None
    precedents = tuple(e for e in found if e is not current)
    if since is None:
        now = current_move(both, max_days, found)
    else:
        start = int(both.index.searchsorted(pd.Timestamp(since), side="right")) - 1
        if start < 0 or start >= len(both) - 1:
            raise StoreError(f"--since {since}: no close of both indices on or before it and before {as_of}")
        now = move_between(both, start, len(both) - 1)
    last = len(both) - 1
    windows = tuple(move_between(both, last - k, last) for k in WINDOWS if k <= last)
    record = _followed(store, [e.detected for e in precedents], data, as_of, both.index[0].date(), (min_gap, max_days))
    missing: dict[str, str] = {}
    readings: dict[str, Reading | None] = {}
    reads: tuple[tuple[str, Callable[[], Reading]], ...] = (
        ("breadth", lambda: _breadth(store, config, as_of)),
        ("equal_weight", lambda: _equal_weight(data)),
    )
    for name, read in reads:
        try:
            readings[name] = read()
        except StoreError as exc:
            readings[name], missing[name] = None, str(exc)
    cpi = _cpi(store, config, as_of, missing)
    ratio = both[LEADER] / both[LAGGARD]
    return RotationView(
        as_of,
        min_gap,
        max_days,
        now,
        windows,
        current,
        precedents,
        record,
        _ratio(ratio, config),
        readings["breadth"],
        readings["equal_weight"],
        cpi,
        missing,
        ratio,
        asked if asked is not None and asked != as_of else None,
    )


def _cpi(store: Store, config: Config, as_of: dt.date, missing: dict[str, str]) -> dict[str, object] | None:
    """The latest CPI release by ``as_of`` against consensus (the next release date is left out: it is after)."""
    summary = cpi_summary(store, config, as_of)
    if summary["latest"] is None:
        missing["cpi"] = "; ".join(summary["notes"]) or "no CPI release stored by then"
        return None
    return {"latest": summary["latest"], "measures": summary["measures"]}
