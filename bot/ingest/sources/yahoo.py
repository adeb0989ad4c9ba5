"""The live price source: Yahoo Finance through yfinance 1.x ``download``.

Yahoo rate-limits bursts, so symbols go in batches (≤ ``batch_size`` per call) and symbols whose
last stored day is close together share a call: the daily update of 503 members is 6 calls.
A batch that fails as a whole (rate limit, network) is retried with exponential backoff; a
symbol that fails on its own (delisted, unknown) comes back as an all-NaN column and is reported
in ``FetchResult.failures``, never raised. Prices are fetched with ``auto_adjust=False`` so the
store keeps both Yahoo's split-adjusted ``Close`` and the dividend-adjusted ``Adj Close``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yfinance as yf
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_when_event_set,
    wait_exponential,
)
from tenacity.wait import WaitBaseT

from bot.ingest.sources.base import FetchResult

log = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
# Symbols whose incremental start days lie this close together share a call (a few extra rows are harmless:
# the store's upserts are idempotent, and rows on or before the stored last day are dropped anyway).
COALESCE_DAYS = 14
POOL_DAYS = 400
STOPPED = "stopped: the bot is shutting down"
# Yahoo publishes a day's final close some minutes after the 16:00 ET bell.
CLOSE_SETTLED = dt.time(16, 30)
# A symbol with stored history that returns nothing new is only reported once it has been quiet this long.
QUIET_DAYS = 6
_TRANSIENT = re.compile(
    r"rate.?limit|too many requests|timed? ?out|timeout|connection|network|curl|ssl|502|503|504", re.I
)
_LOGGED_ERROR = re.compile(r"^\[(?P<syms>[^\]]*)\]:\s*(?P<why>.+)$", re.S)
# What yfinance 1.x logs when the network itself is down (curl errors 6, 7: DNS, connection refused),
# before it reports every ticker as "possibly delisted; no timezone found".
_NETWORK_DOWN = re.compile(
    r"curl: \((?:6|7)\)[^.]*?(?P<what>Could not resolve host: [\w.-]+|Failed to connect to [\w.-]+(?: port \d+)?"
    r"|Couldn't connect to server|Connection refused)",
    re.I,
)


class NetworkDown(Exception):
    """Yahoo's host cannot be resolved or refuses connections: no retry can help, so none is made."""


class TransientError(Exception):
    """A whole batch failed for a reason worth retrying (rate limit, network)."""


def is_transient(exc: BaseException) -> bool:
    """Rate limits and network trouble are retried; programming errors are not."""
    if isinstance(exc, NetworkDown):
        return False
    if isinstance(exc, TransientError | yf.exceptions.YFRateLimitError | OSError | TimeoutError):
        return True
    module = type(exc).__module__ or ""
    if module.startswith(("requests", "curl_cffi", "urllib3", "httpx")):
        return True
    return bool(_TRANSIENT.search(f"{type(exc).__name__} {exc}"))


@dataclass(frozen=True)
class Batch:
    """One ``yf.download`` call: these symbols, from ``start`` on."""

    symbols: tuple[str, ...]
    start: dt.date


def plan_batches(
    symbols: Sequence[str], since: Mapping[str, dt.date | None], history_start: dt.date, batch_size: int
) -> list[Batch]:
    """Group symbols by the day their fetch starts, then cut groups into batches of ``batch_size``.

    A symbol never fetched starts at ``history_start``; others the day after their last stored day.
    Start days within ``COALESCE_DAYS`` of a group's earliest join it, and stragglers (a halted or
    delisted stock, a late listing) up to ``POOL_DAYS`` apart share a call while it has room: a
    little history fetched twice is cheaper than one more call against Yahoo's rate limit.
    """
    starts: dict[str, dt.date] = {}
    for s in dict.fromkeys(symbols):
        last = since.get(s)
        starts[s] = history_start if last is None else last + dt.timedelta(days=1)
    ordered = sorted(starts, key=lambda s: (starts[s], s))
    groups: list[list[str]] = []
    for s in ordered:
        gap = (starts[s] - starts[groups[-1][0]]).days if groups else None
        if gap is not None and (gap <= COALESCE_DAYS or (len(groups[-1]) < batch_size and gap <= POOL_DAYS)):
            groups[-1].append(s)
        else:
            groups.append([s])
    batches = []
    for group in groups:
        for i in range(0, len(group), batch_size):
            chunk = tuple(group[i : i + batch_size])
            batches.append(Batch(chunk, min(starts[s] for s in chunk)))
    return batches


class _ErrorCapture(logging.Handler):
    """Collects the per-ticker reasons yfinance logs (``['XYZ']: YFTzMissingError(...)``) during one call."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: dict[str, str] = {}
        self.network_down: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        down = _NETWORK_DOWN.search(record.getMessage())
        if down and self.network_down is None:
            self.network_down = down.group("what")
        if record.levelno < logging.ERROR:
            return
        match = _LOGGED_ERROR.match(record.getMessage().strip())
        if not match:
            return
        why = match.group("why").strip().splitlines()[0]
        for sym in re.findall(r"'([^']+)'", match.group("syms")):
            self.reasons[sym.upper()] = why


@contextmanager
def _capture_yfinance_errors() -> Iterator[_ErrorCapture]:
    """Collect yfinance's per-ticker errors instead of letting it print hundreds of lines (and its
    pandas deprecation warnings); the fetch job logs one summarised warning per reason."""
    handler = _ErrorCapture()
    logger = logging.getLogger("yfinance")
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield handler
    finally:
        logger.propagate = propagate
        logger.removeHandler(handler)


def _block(frame: pd.DataFrame, field: str, tickers: Sequence[str]) -> np.ndarray | None:
    """One price field as a days × tickers float array (NaN where a ticker or a value is missing)."""
    if isinstance(frame.columns, pd.MultiIndex):
        if field not in frame.columns.get_level_values(0):
            return None
        part = pd.DataFrame(frame.xs(field, axis=1, level=0))
    elif field in frame.columns:
        part = frame[[field]].set_axis([tickers[0]] if tickers else [field], axis=1)
    else:
        return None
    if any(str(t) == "object" for t in part.dtypes.tolist()):  # text in a broken answer: unreadable values are NaN
        part = pd.DataFrame({c: pd.to_numeric(part[c], errors="coerce") for c in part.columns}, index=part.index)
    columns = [str(c).upper() for c in part.columns]
    values = part.to_numpy(dtype=float, na_value=np.nan)
    out = np.full((len(frame.index), len(tickers)), np.nan)
    where = {c: i for i, c in enumerate(columns)}
    for j, ticker in enumerate(tickers):
        i = where.get(ticker)
        if i is not None:
            out[:, j] = values[:, i]
    return out


def split_download(frame: pd.DataFrame, symbols: Sequence[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Cut a ``yf.download(group_by="column")`` frame into one close/adj_close frame per symbol.

    Prices that are not positive and finite become NaN (a 0 or inf quote is missing, not a price: the store
    refuses it); rows where both prices are NaN are dropped, duplicate dates keep the last row (counted in the
    frame's ``attrs["duplicate_dates"]``), and a symbol with no usable row is a failure ("no data returned").
    The fields are read as two arrays once, not column by column: a daily fetch cuts 500 symbols.
    """
    frames: dict[str, pd.DataFrame] = {}
    failures: dict[str, str] = {}
    multi = isinstance(frame.columns, pd.MultiIndex)
    present = {str(t).upper() for t in frame.columns.get_level_values(-1)} if multi else set()
    tickers = [s.upper() for s in symbols]
    close = _block(frame, "Close", tickers)
    adj = _block(frame, "Adj Close", tickers)
    index = pd.DatetimeIndex(frame.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.normalize().rename("date")
    order = np.argsort(index.to_numpy(), kind="stable")
    index = index[order]
    nan = np.full(len(index), np.nan)
    for j, (symbol, ticker) in enumerate(zip(symbols, tickers, strict=True)):
        if multi and ticker not in present:
            failures[symbol] = "not in Yahoo's answer"
            continue
        if close is None and adj is None:
            failures[symbol] = "no Close or Adj Close column"
            continue
        c = nan if close is None else close[order, j]
        a = nan if adj is None else adj[order, j]
        with np.errstate(invalid="ignore"):
            c = np.where(np.isfinite(c) & (c > 0), c, np.nan)
            a = np.where(np.isfinite(a) & (a > 0), a, np.nan)
        keep = ~(np.isnan(c) & np.isnan(a))
        out = pd.DataFrame({"close": c[keep], "adj_close": a[keep]}, index=index[keep])
        dupes = out.index.duplicated(keep="last")
        if dupes.any():
            out = out[~dupes]
            out.attrs["duplicate_dates"] = int(dupes.sum())  # the fetch job warns about them
        if out.empty:
            failures[symbol] = "no data returned (delisted or unknown symbol?)"
            continue
        frames[symbol] = out
    return frames, failures


class YahooSource:
    """Daily closes from Yahoo Finance; see the module docstring for batching and retries."""

    name = "yahoo"

    def __init__(
        self,
        history_start: dt.date = dt.date(2000, 1, 1),
        batch_size: int = 100,
        retries: int = 4,
        wait: WaitBaseT | None = None,
        now: Callable[[], dt.datetime] | None = None,
        on_batch: Callable[[Batch], None] | None = None,
        threads: bool | int = True,
        cancel: threading.Event | None = None,
    ) -> None:
        self.history_start = history_start
        self.batch_size = batch_size
        self.retries = retries
        self.wait = wait if wait is not None else wait_exponential(multiplier=2, min=2, max=60)
        self.now = now or (lambda: dt.datetime.now(NEW_YORK))
        self.on_batch = on_batch
        self.threads = threads
        # Set on shutdown: stop between batches and cut backoff waits short (systemd waits 90 s, not 2 min).
        self.cancel = cancel or threading.Event()

    def _sleep(self, seconds: float) -> None:
        """Backoff that a shutdown request ends at once."""
        self.cancel.wait(seconds)

    def plan(self, symbols: Sequence[str], since: Mapping[str, dt.date | None]) -> list[Batch]:
        return plan_batches(symbols, since, self.history_start, self.batch_size)

    def fetch(self, symbols: Sequence[str], since: Mapping[str, dt.date | None]) -> FetchResult:
        result = FetchResult()
        today = self.now().astimezone(NEW_YORK)
        for batch in self.plan(symbols, since):
            if self.cancel.is_set():
                result.failures.update({s: STOPPED for s in batch.symbols})
                continue
            if batch.start > today.date() or (batch.start == today.date() and today.time() < CLOSE_SETTLED):
                if self.on_batch:
                    self.on_batch(batch)
                continue  # nothing settled can be newer: no call at all
            try:
                frames, failures, calls = self._fetch_batch(batch)
            except NetworkDown as down:
                result.calls += 1
                result.failures.update({s: str(down) for s in symbols if s not in result.frames})
                log.warning("yahoo: %s: fetched nothing, nothing retried", down)
                break
            result.calls += calls
            for symbol, why in list(failures.items()):
                last = since.get(symbol)
                if last is not None and (today.date() - last).days <= QUIET_DAYS and not _TRANSIENT.search(why):
                    # An incremental call with nothing new (a holiday, a quiet weekend) is not a failure.
                    del failures[symbol]
                    frames.setdefault(symbol, _empty())
            for symbol, frame in frames.items():
                last = since.get(symbol)
                if last is not None:
                    frame = frame[frame.index > pd.Timestamp(last)]
                if today.time() < CLOSE_SETTLED:
                    frame = frame[frame.index < pd.Timestamp(today.date())]
                result.frames[symbol] = frame
            result.failures.update(failures)
            if self.on_batch:
                self.on_batch(batch)
        return result

    def _fetch_batch(self, batch: Batch) -> tuple[dict[str, pd.DataFrame], dict[str, str], int]:
        """Download one batch; retry the symbols that failed transiently, give up on the rest."""
        pending = list(batch.symbols)
        frames: dict[str, pd.DataFrame] = {}
        failures: dict[str, str] = {}
        calls = 0
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1) | stop_when_event_set(self.cancel),
            wait=self.wait,
            sleep=self._sleep,
            retry=retry_if_exception(is_transient),
            reraise=False,
        )
        try:
            for attempt in retrying:
                if self.cancel.is_set():  # woken from backoff by a shutdown: no further call
                    failures.update({s: STOPPED for s in pending})
                    break
                with attempt:
                    calls += 1
                    got, failed = self._download(pending, batch.start)
                    frames.update(got)
                    transient = {s: why for s, why in failed.items() if _TRANSIENT.search(why)}
                    failures.update({s: why for s, why in failed.items() if s not in transient})
                    for s in got:
                        failures.pop(s, None)
                    if transient:
                        pending = list(transient)
                        failures.update(transient)
                        log.warning(
                            "yahoo: %d symbols failed transiently (%s); retrying",
                            len(transient),
                            next(iter(transient.values())),
                        )
                        raise TransientError(next(iter(transient.values())))
        except NetworkDown:
            raise  # the caller stops every batch: one clear reason, no retries, no 2-minute wait
        except RetryError as err:
            exc = err.last_attempt.exception()
            reason = _reason(exc) if exc else "gave up"
            log.warning("yahoo: giving up on %d symbols after %d calls: %s", len(pending), calls, reason)
            for s in pending:
                failures[s] = failures.get(s, reason) if isinstance(exc, TransientError) else reason
        except Exception as exc:  # not worth retrying, but never a crash: every symbol of the batch fails
            reason = _reason(exc)
            log.warning("yahoo: batch of %d symbols failed: %s", len(pending), reason)
            for s in pending:
                failures[s] = reason
        return frames, failures, calls

    def _download(self, symbols: Sequence[str], start: dt.date) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
        kwargs: dict[str, Any] = {
            "start": start.isoformat(),
            "auto_adjust": False,
            "actions": False,
            "group_by": "column",
            "progress": False,
            "threads": self.threads,
        }
        with _capture_yfinance_errors() as captured:
            frame = yf.download(list(symbols), **kwargs)
        reasons = dict(captured.reasons)
        shared_errors = getattr(getattr(yf, "shared", None), "_ERRORS", None)
        if isinstance(shared_errors, dict):  # yfinance < 1.7 kept them here
            reasons.update({str(k).upper(): str(v) for k, v in shared_errors.items()})
        if (frame is None or frame.empty) and captured.network_down:
            raise NetworkDown(f"network unreachable ({captured.network_down})")
        if frame is None or frame.empty:
            why = next(iter(reasons.values()), "Yahoo returned no rows")
            return {}, {s: reasons.get(s.upper(), why) for s in symbols}
        frames, failures = split_download(frame, symbols)
        for s in failures:
            if s.upper() in reasons:
                failures[s] = reasons[s.upper()]
        return frames, failures


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"close": [], "adj_close": []}, index=pd.DatetimeIndex([], name="date"), dtype=float)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
