"""Shared set-up for the benchmarks: one loaded store per run, and the result line format.

With ``../shared/data`` present the real data is loaded once into a store in this run's folder (``work()``: a
temporary folder of its own, or ``BENCH_DIR``, where later runs reuse it while the data files are unchanged);
otherwise a synthetic store of the same size is generated (500 random-walk members and two indices over 25 years),
so ``make bench`` runs anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.config.settings import Config, parse_config
from bot.store.db import Store

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SYNTH_MEMBERS = 500
SYNTH_YEARS = 25


@dataclass(frozen=True)
class Env:
    path: Path  # the SQLite store (treat as read-only; copy it to write)
    kind: str  # "shared data" or "synthetic"
    members: int
    days: int

    def config(self, store_path: Path | None = None, symbols: list[str] | None = None) -> Config:
        data: dict[str, object] = {"store": {"path": str(store_path or self.path)}}
        if symbols is not None:
            data["data"] = {"symbols": symbols}
        return parse_config(data, path=work() / "config.toml")

    def open(self) -> Store:
        return Store(self.path)


_ENV: Env | None = None
_WORK: Path | None = None
_OWN_WORK = False


def work() -> Path:
    """This run's folder: ``BENCH_DIR`` when set, else a new temporary folder, so two checkouts (or two runs) on one
    machine never share one. Child processes (the memory benchmark's) inherit it through the environment."""
    global _WORK, _OWN_WORK
    if _WORK is None:
        chosen = os.environ.get("BENCH_DIR")
        _OWN_WORK = not chosen
        _WORK = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="rotation-bot-bench-"))
        _WORK.mkdir(parents=True, exist_ok=True)
        os.environ["BENCH_DIR"] = str(_WORK)
    return _WORK


def owns_work() -> bool:
    """True when ``work()`` made its folder (a temporary one, removed at the end), not the user's ``BENCH_DIR``."""
    return _OWN_WORK


def _fingerprint(root: Path) -> str:
    h = hashlib.sha1()
    for p in sorted(root.rglob("*.csv")):
        st = p.stat()
        h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def _shared_env() -> Env:
    from bot.ingest.sources.csvdir import load_directory

    path = work() / f"shared-{_fingerprint(SHARED_DATA)}.sqlite"
    if not (path.exists() and path.with_suffix(".ok").exists()):
        print(f"(loading {SHARED_DATA} into {path} once…)", flush=True)
        path.unlink(missing_ok=True)
        store = Store(path)
        load_directory(store, SHARED_DATA)
        store.close()
        path.with_suffix(".ok").touch()
    store = Store(path)
    try:
        members = len(store.universe("sp500"))
        close, _ = store.load_prices(store.universe("sp500"))
        days = len(close.index)
    finally:
        store.close()
    return Env(path, "shared data", members, days)


def make_synthetic(path: Path, members: int = SYNTH_MEMBERS, years: float = SYNTH_YEARS, seed: int = 1) -> Env:
    """Random walks for ``members`` symbols and ^GSPC/^RUT over ``years`` of business days."""
    days = int(years * 252)
    index = pd.bdate_range("2000-01-03", periods=days, name="date")
    rng = np.random.default_rng(seed)
    store = Store(path)
    try:
        gspc = 1000 * np.exp(np.cumsum(rng.normal(0.0003, 0.011, days)))
        rut = gspc * 0.4 * np.exp(np.cumsum(rng.normal(0, 0.006, days)))
        for sym, values in (("^GSPC", gspc), ("^RUT", rut)):
            store.upsert_prices(sym, pd.DataFrame({"close": values, "adj_close": values}, index=index))
        names = [f"S{i:03d}" for i in range(members)]
        walks = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (days, members)), axis=0))
        with store.transaction():
            for j, sym in enumerate(names):
                col = walks[:, j]
                store.upsert_prices(sym, pd.DataFrame({"close": col, "adj_close": col * 0.99}, index=index))
        store.set_universe("sp500", [{"symbol": s} for s in names], source="synthetic")
    finally:
        store.close()
    return Env(path, "synthetic", members, days)


def _synthetic_env() -> Env:
    path = work() / f"synthetic-{SYNTH_MEMBERS}x{SYNTH_YEARS}y.sqlite"
    if path.exists() and path.with_suffix(".ok").exists():
        return Env(path, "synthetic", SYNTH_MEMBERS, SYNTH_YEARS * 252)
    print(f"(generating {SYNTH_MEMBERS} × {SYNTH_YEARS} years of random walks into {path} once…)", flush=True)
    path.unlink(missing_ok=True)
    env = make_synthetic(path)
    path.with_suffix(".ok").touch()
    return env


def env() -> Env:
    """The benchmark store, prepared once per run (and reused across runs when unchanged)."""
    global _ENV
    if _ENV is None:
        forced = os.environ.get("BENCH_DATA")
        if forced == "synthetic" or not (SHARED_DATA / "indices").is_dir():
            _ENV = _synthetic_env()
        else:
            _ENV = _shared_env()
    return _ENV


def use_env(e: Env) -> None:
    """Point the benchmarks at another store (the smoke test uses a tiny one)."""
    global _ENV
    _ENV = e


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass(frozen=True)
class Result:
    name: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    ok: bool
    note: str = ""

    def line(self) -> str:
        text = f"{self.name}: measured {self.measured}, baseline {self.baseline}, ratio {self.ratio}"
        if self.goal:  # a line without a goal is information only: no verdict
            text += f" ({self.goal}) {'PASS' if self.ok else 'MISS'}"
        return text + (f" — {self.note}" if self.note else "")


def report(result: Result) -> Result:
    print(result.line(), flush=True)
    return result


def copy_store(src: Path, dst: Path) -> None:
    """Copy a store file (and its write-ahead log, if any) to ``dst``, dropping ``dst``'s stale WAL files."""
    for suffix in ("-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    wal = Path(f"{src}-wal")
    if wal.exists():
        shutil.copyfile(wal, f"{dst}-wal")


def remove_store(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


# --- a stand-in for yfinance.download -----------------------------------------------------------

FIELDS = ("Adj Close", "Close", "High", "Low", "Open", "Volume")


def yahoo_frame(quotes: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The frame yfinance 1.x ``download(tickers, auto_adjust=False, group_by="column")`` returns for ``quotes``
    (per ticker, rows by date with columns ``close`` and ``adj_close``).

    Index: the union of every ticker's days, tz-naive, named "Date". Columns: a MultiIndex named
    ("Price", "Ticker") of FIELDS × tickers, both levels sorted, as yfinance sorts them. A ticker
    without a row on some day has NaN there, which makes Volume float, as in yfinance.
    """
    tickers = sorted(quotes)
    stamps = [pd.DatetimeIndex(quotes[t].index).to_numpy(dtype="datetime64[ns]") for t in tickers]
    days = np.unique(np.concatenate(stamps)) if stamps else np.array([], dtype="datetime64[ns]")
    close = np.full((len(days), len(tickers)), np.nan)
    adj = np.full((len(days), len(tickers)), np.nan)
    for j, t in enumerate(tickers):
        rows = np.searchsorted(days, stamps[j])
        close[rows, j] = quotes[t]["close"].to_numpy(dtype=float)
        adj[rows, j] = quotes[t]["adj_close"].to_numpy(dtype=float)
    volume = np.where(np.isnan(close), np.nan, 1_000_000.0)
    blocks = {
        "Adj Close": adj,
        "Close": close,
        "High": close * 1.01,
        "Low": close * 0.99,
        "Open": close * 0.995,
        "Volume": volume,
    }
    index = pd.DatetimeIndex(days, name="Date")
    prices = pd.DataFrame(
        np.hstack([blocks[f] for f in FIELDS[:-1]]) if tickers else np.empty((len(days), 0)),
        index=index,
        columns=pd.MultiIndex.from_product([FIELDS[:-1], tickers], names=["Price", "Ticker"]),
    )
    whole = not np.isnan(volume).any()  # yfinance's Volume is int64 unless a ticker lacks a row
    volumes = pd.DataFrame(
        volume.astype("int64") if whole else volume,
        index=index,
        columns=pd.MultiIndex.from_product([["Volume"], tickers], names=["Price", "Ticker"]),
    )
    return pd.concat([prices, volumes], axis=1)


def fake_download(calls: list[tuple[int, str]], quote: Callable[[str, dt.date], pd.DataFrame]) -> Any:
    """A ``yfinance.download`` answering ``quote(ticker, start)`` per requested ticker; records (tickers, start)."""

    def download(tickers: list[str] | str, start: str | None = None, **_: Any) -> pd.DataFrame:
        symbols = [tickers] if isinstance(tickers, str) else list(tickers)
        calls.append((len(symbols), str(start)))
        first = dt.date.fromisoformat(str(start))
        return yahoo_frame({s.upper(): quote(s, first) for s in symbols})

    return download


def today_of(store: Store) -> dt.date:
    latest = store.latest_date()
    assert latest is not None
    return latest
