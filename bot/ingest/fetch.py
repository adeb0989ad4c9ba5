"""The live fetch job (``rotation-bot fetch --source yahoo|fred``, and the scheduler's daily/CPI jobs).

Fetching is incremental: each symbol starts the day after its last stored close, so a daily update
is a few calls. Partial failures are reported per symbol and the rest is stored; only when nothing
at all could be fetched is the source declared down (``SourceUnavailable`` with a retry time),
which the store's ``source_status`` also records for ``rotation-bot status``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from tqdm import tqdm

from bot.calendar import last_price_day
from bot.config import Config
from bot.errors import BotError, SourceUnavailable
from bot.ingest.sources.base import FetchResult
from bot.ingest.sources.csvdir import load_directory
from bot.ingest.sources.fred import CPI_SERIES, FredSource
from bot.ingest.sources.yahoo import Batch, YahooSource
from bot.ingest.universe import refresh_universes
from bot.market import universe_members
from bot.store import Store
from bot.values import counted, yahoo_symbol

log = logging.getLogger(__name__)

NAMED_FAILURES = 10  # failed symbols named in the one-line summary (the log names every one)
# A new close this many times the previous one (or 1/this) looks like a split Yahoo has not adjusted
# yet: indices never move like that in a day, and a stock that does deserves a look anyway.
SPLIT_LIKE = 1.8


@dataclass
class FetchReport:
    """What a live fetch did, for the CLI line, /status and the run log."""

    source: str
    symbols: int = 0
    calls: int = 0
    rows: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    last_data_date: dt.date | None = None

    def summary(self) -> str:
        """One line; it names the failed symbols, because an admin reading a daily run's log must know which."""
        what = counted(self.symbols, "series", "series") if self.source == "fred" else counted(self.symbols, "symbol")
        line = (
            f"Fetched {what} in {counted(self.calls, 'call')}, {counted(self.rows, 'row')} added, "
            f"{counted(len(self.failures), 'failure')}"
        )
        if self.failures:
            line += f" ({_names(self.failures)})"
        return "; ".join([line, *self.notes]) + "."


def _names(symbols: Collection[str]) -> str:
    names = sorted(symbols)
    more = f" and {len(names) - NAMED_FAILURES} more" if len(names) > NAMED_FAILURES else ""
    return ", ".join(names[:NAMED_FAILURES]) + more


def split_like_jumps(store: Store, frames: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Per symbol whose new rows look like an unadjusted split, why.

    Compares each new close with the one before it, the first with the last close stored in the two
    weeks before (one query for every symbol); the store keeps the rows anyway (it cannot tell a split
    from a crash), and the fetch warns.
    """
    firsts = {s: pd.Timestamp(f.index.min()).date() for s, f in frames.items() if not f.empty}
    before = store.closes_before({s: (d - dt.timedelta(days=15), d) for s, d in firsts.items()})
    out: dict[str, str] = {}
    for symbol in firsts:
        frame = frames[symbol]
        close = frame["close"].to_numpy(dtype=float)
        if "adj_close" in frame:
            close = np.where(np.isnan(close), frame["adj_close"].to_numpy(dtype=float), close)
        days = frame.index[~np.isnan(close)]
        series = close[~np.isnan(close)]
        if symbol in before:
            series = np.concatenate([[before[symbol]], series])
            days = days.insert(0, days[0] if len(days) else frame.index[0])
        if len(series) < 2:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = series[1:] / series[:-1]
        hit = np.flatnonzero((factor >= SPLIT_LIKE) | (factor <= 1 / SPLIT_LIKE))
        if len(hit):
            i = int(hit[0])
            day = pd.Timestamp(days[i + 1]).date()
            out[symbol] = f"close moved ×{factor[i]:.2f} on {day}, like an unadjusted split: check it, refetch if so"
    return out


def refuse_rows(
    store: Store, frames: Mapping[str, pd.DataFrame], through: dt.date
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The frames without the rows the store must not take, and per symbol why, for the fetch's warnings.

    A row dated after ``through`` (the latest session) has no close yet; a row without a Close, of a symbol whose
    stored history has closes, would erase a stored close or put an adj_close among closes. Left out, such a day
    is asked again by the next fetch, when Yahoo has its close.
    """
    gaps = [s for s, f in frames.items() if "close" not in f or bool(f["close"].isna().any())]
    closed = store.with_closes(gaps) if gaps else set()
    kept: dict[str, pd.DataFrame] = {}
    why: dict[str, str] = {}
    for symbol, frame in frames.items():
        late = frame.index > pd.Timestamp(through)
        no_close = np.zeros(len(frame), dtype=bool)
        if symbol in closed:
            no_close = frame["close"].isna().to_numpy() if "close" in frame else ~no_close
        reasons = []
        if late.any():
            reasons.append(f"{counted(int(late.sum()), 'row')} after the latest session ({through}): no close yet")
        if (no_close & ~late).any():
            days = ", ".join(str(d.date()) for d in frame.index[no_close & ~late][:3])
            reasons.append(f"no Close on {days}, and the store holds its closes: kept them")
        if reasons:
            why[symbol] = "; ".join(reasons)
        kept[symbol] = frame[~(late | no_close)]
    return kept, why


def live_symbols(store: Store, config: Config) -> list[str]:
    """Configured symbols first, then every member of every universe (each once)."""
    symbols = list(config.settings.data.symbols)
    for name in config.settings.universes:
        symbols.extend(yahoo_symbol(s) for s in universe_members(store, config, name))
    return list(dict.fromkeys(symbols))


def fetch_yahoo(
    store: Store,
    config: Config,
    symbols: list[str] | None = None,
    progress: bool = False,
    source: YahooSource | None = None,
    client: httpx.Client | None = None,
    now: Callable[[], dt.datetime] | None = None,
    cancel: threading.Event | None = None,
) -> FetchReport:
    report = FetchReport("yahoo")
    if symbols is None:
        for r in refresh_universes(store, config, client):
            if r.error:
                report.notes.append(f"universe {r.universe}: {r.error}, kept {r.members} stored members")
        symbols = live_symbols(store, config)
    data = config.settings.data
    yahoo = source or YahooSource(data.history_start, data.batch_size, data.retries, now=now, cancel=cancel)
    since: dict[str, dt.date | None] = dict.fromkeys(symbols)
    since.update(store.last_dates(symbols))
    batches = yahoo.plan(symbols, since)
    bar_off = None if progress else True  # None: only on a terminal
    with tqdm(total=len(batches), unit="call", disable=bar_off, file=sys.stderr, desc="yahoo") as bar:

        def tick(batch: Batch) -> None:
            bar.set_postfix_str(f"{len(batch.symbols)} symbols from {batch.start}", refresh=False)
            bar.update()

        previous = yahoo.on_batch
        yahoo.on_batch = tick
        try:
            result: FetchResult = yahoo.fetch(symbols, since)
        finally:
            yahoo.on_batch = previous
    dupes = {
        symbol: f"{frame.attrs['duplicate_dates']} duplicate dates in Yahoo's answer; kept the last row"
        for symbol, frame in result.frames.items()
        if frame.attrs.get("duplicate_dates")
    }
    through = last_price_day(yahoo.now(), config.settings.schedule.exchange)
    frames, refused = refuse_rows(store, result.frames, through)
    jumps = split_like_jumps(store, frames)
    report.rows += sum(store.upsert_many(frames, through).values())
    for found in (refused, jumps, dupes):
        for symbol, why in found.items():
            log.warning("yahoo: %s: %s", symbol, why)
    if refused:
        report.notes.append(f"rows refused in {_names(refused)}")
    if jumps:
        report.notes.append(f"split-like jump in {_names(jumps)}")
    if dupes:
        report.notes.append(f"duplicate dates in {_names(dupes)}")
    by_reason: dict[str, list[str]] = {}
    for symbol, why in sorted(result.failures.items()):
        by_reason.setdefault(why, []).append(symbol)
    for why, names in by_reason.items():
        log.warning("yahoo: no new data for %d symbols (%s): %s", len(names), _names(names), why)
    report.symbols = len(result.frames)
    report.calls = result.calls
    report.failures = dict(result.failures)
    report.last_data_date = store.latest_date(list(data.symbols)) or store.latest_date()
    if symbols and not result.frames and len(result.failures) >= len(set(symbols)):
        reason = _common_reason(result.failures)
        if reason.startswith("network unreachable"):
            reason = f"{reason}; none of {len(result.failures)} symbols fetched"
        elif len(result.failures) > 5 and len(set(result.failures.values())) == 1:
            reason = f"all {len(result.failures)} symbols failed ({reason}): Yahoo unreachable or refusing requests?"
        store.mark_source("yahoo", ok=False, error=reason, last_data_date=report.last_data_date)
        raise SourceUnavailable("yahoo", reason)
    error = f"{len(report.failures)} symbols failed" if report.failures else None
    store.mark_source("yahoo", ok=True, error=error, last_data_date=report.last_data_date)
    return report


def fetch_fred(
    store: Store,
    config: Config,
    source: FredSource | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> FetchReport:
    """CPI index levels from FRED, and the user's release calendar when ``[cpi] release_dates`` names one."""
    report = FetchReport("fred")
    data = config.settings.data
    if config.settings.cpi.release_dates:
        report.notes.append(load_release_dates(store, config.resolve(config.settings.cpi.release_dates)))
    fred = source or FredSource(data.fred_url, data.retries)
    result = fred.fetch_into(store, CPI_SERIES)
    report.symbols = len(result.changed)
    report.calls = result.calls
    report.rows = sum(result.changed.values())
    report.failures = dict(result.failures)
    last = max(result.last_month.values()) if result.last_month else None
    report.last_data_date = dt.date.fromisoformat(last + "-01") if last else None
    if not result.changed:
        reason = _common_reason(result.failures) if result.failures else "no series fetched"
        store.mark_source("fred", ok=False, error=reason)
        raise SourceUnavailable("fred", reason)
    error = "; ".join(f"{k}: {v}" for k, v in result.failures.items()) or None
    store.mark_source("fred", ok=True, error=error, last_data_date=report.last_data_date)
    return report


def load_release_dates(store: Store, path: Path) -> str:
    """Load the user's BLS release calendar (reference_month,release_date,release_time_et)."""
    if not path.is_file():
        return f"CPI release dates: no such file {path}"
    summary = load_directory(store, path)
    if summary.failures or not summary.releases:
        why = next(iter(summary.failures.values()), "not a release-dates CSV")
        return f"CPI release dates: {path.name}: {why}"
    if summary.refused:
        return f"{summary.releases} CPI release dates; refused {len(summary.refused)}, first {summary.refused[0]}"
    return f"{summary.releases} CPI release dates"


def fetch_live(
    store: Store,
    config: Config,
    source: str,
    symbols: list[str] | None = None,
    progress: bool = False,
    cancel: threading.Event | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> FetchReport:
    """Entry point of ``rotation-bot fetch`` and the daily job for the live sources.

    ``now``: the scheduler's clock, so "nothing new yet" is judged by the same time the job was due by.
    """
    if source == "yahoo":
        return fetch_yahoo(store, config, symbols, progress, cancel=cancel, now=now)
    if source == "fred":
        return fetch_fred(store, config)
    raise BotError(f"unknown live source {source!r} (expected yahoo or fred)")


def _common_reason(failures: dict[str, str]) -> str:
    """The most frequent failure reason, so an outage reads as one sentence."""
    counts: dict[str, int] = {}
    for why in failures.values():
        counts[why] = counts.get(why, 0) + 1
    reason = max(counts, key=lambda k: counts[k])
    return reason if len(counts) == 1 else f"{reason} (and {len(counts) - 1} other reasons)"
