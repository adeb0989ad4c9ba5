"""The offline source: a folder of CSV files, recognised by their header.

| header                                              | what it is                              |
|-----------------------------------------------------|-----------------------------------------|
| ``date,open,high,low,close,adj_close,volume``        | daily prices; the symbol is the file name (``^RUT.csv``) |
| ``symbol,date,close[,adj_close]``                    | daily prices of many symbols in one long file |
| ``observation_date,<SERIES>``                        | a FRED series (CPIAUCSL, CPILFESL);       |
|                                                     | ``*_vintage_YYYY-MM-DD.csv`` is a vintage |
| ``symbol,name,sector,…`` (``members.csv``)           | a universe's member list, named after its folder (``sp500``) |
| ``ticker,start_date,end_date``                       | point-in-time membership spans of the folder's universe |
| ``reference_month,release_date,release_time_et``     | the BLS CPI release calendar |
| ``release_date,reference_month,measure,expected,actual,…`` | CPI consensus forecasts and first-published actuals |

Folders are walked recursively, so ``--path ../shared/data`` loads everything at once. Other
files are skipped and listed in the summary. Prices use ``close`` where present and fall back to
``adj_close`` (the store keeps both).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bot.ingest.sources.base import FetchResult
from bot.store import Store
from bot.values import as_float, yahoo_symbol

VINTAGE = re.compile(r"_vintage_(\d{4}-\d{2}-\d{2})$")
PRICE_COLUMNS = {"date", "close"} | {"date", "adj_close"}


@dataclass
class LoadSummary:
    """What a folder load did, for the CLI summary line."""

    symbols: int = 0
    rows: int = 0
    files: int = 0
    universes: dict[str, int] = field(default_factory=dict)
    membership: dict[str, int] = field(default_factory=dict)
    cpi_series: dict[str, int] = field(default_factory=dict)
    releases: int = 0
    consensus: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        row = next(csv.reader(fh), [])
    return [c.strip().lower() for c in row]


def read_price_file(path: Path) -> pd.DataFrame:
    """One symbol's CSV as a frame of close/adj_close indexed by date (bad rows dropped)."""
    frame = pd.read_csv(path, usecols=lambda c: c.lower() in ("date", "close", "adj_close", "adj close"))
    frame.columns = [c.lower().replace(" ", "_") for c in frame.columns]
    return _tidy(frame)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    frame = frame.dropna(subset=["date"])
    for col in ("close", "adj_close"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
            frame.loc[frame[col] <= 0, col] = np.nan
    out = frame.set_index("date").sort_index()
    out = out[~out.index.duplicated(keep="last")]
    return out[[c for c in ("close", "adj_close") if c in out]]


def _kind(path: Path, header: list[str]) -> str | None:
    cols = set(header)
    if header[:1] == ["observation_date"] and len(header) == 2:
        return "fred"
    if {"ticker", "start_date", "end_date"} <= cols:
        return "membership"
    if {"reference_month", "release_date"} <= cols and "measure" not in cols:
        return "releases"
    if {"release_date", "reference_month", "measure", "expected"} <= cols:
        return "consensus"
    if "symbol" in cols and "date" in cols and ("close" in cols or "adj_close" in cols):
        return "long"
    if "symbol" in cols and "date" not in cols:
        return "members"
    if "date" in cols and ("close" in cols or "adj_close" in cols or "adj close" in cols):
        return "prices"
    return None


def _universe_name(path: Path, root: Path) -> str:
    """members.csv → its folder's name; sp500/membership/x.csv → sp500."""
    folder = path.parent
    if folder.name == "membership":
        folder = folder.parent
    if folder == root.parent or folder.name in ("", "."):
        return "sp500"
    return folder.name


def load_directory(
    store: Store,
    root: Path,
    on_file: Callable[[Path], None] | None = None,
    only_prices: bool = False,
) -> LoadSummary:
    """Load every recognised CSV under ``root`` (a folder or a single file) into the store."""
    summary = LoadSummary()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.csv") if p.is_file())
    base = root if root.is_dir() else root.parent
    for path in files:
        if on_file:
            on_file(path)
        try:
            header = _header(path)
            kind = _kind(path, header)
            if kind is None or (only_prices and kind not in ("prices", "long")):
                summary.skipped.append(path.name)
                continue
            summary.files += 1
            _LOADERS[kind](store, path, base, header, summary)
        except (OSError, ValueError, KeyError, csv.Error, pd.errors.ParserError) as exc:
            summary.failures[path.name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return summary


def _load_prices(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = read_price_file(path)
    if frame.dropna(how="all").empty:
        s.failures[path.name] = "no usable prices"
        return
    s.rows += store.upsert_prices(path.stem, frame)
    s.symbols += 1


def _load_long(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = pd.read_csv(path)
    frame.columns = [c.lower().replace(" ", "_") for c in frame.columns]
    for symbol, part in frame.groupby("symbol"):
        s.rows += store.upsert_prices(str(symbol), _tidy(part.drop(columns="symbol")))
        s.symbols += 1


def _load_members(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = pd.read_csv(path, dtype=str).fillna("")
    frame.columns = [c.lower() for c in frame.columns]
    members = [
        {"symbol": yahoo_symbol(r["symbol"]), "name": r.get("name") or None, "sector": r.get("sector") or None}
        for r in frame.to_dict("records")
        if r["symbol"].strip()
    ]
    universe = _universe_name(path, base)
    s.universes[universe] = store.set_universe(universe, members, source=str(path))


def _load_membership(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = pd.read_csv(path, dtype=str).fillna("")
    spans = [
        (yahoo_symbol(r["ticker"]), r["start_date"].strip(), r["end_date"].strip() or None)
        for r in frame.to_dict("records")
        if r["ticker"].strip() and r["start_date"].strip()
    ]
    universe = _universe_name(path, base)
    s.membership[universe] = store.set_membership(universe, spans)


def _load_fred(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    series_id = header[1].upper()
    match = VINTAGE.search(path.stem)
    vintage = match.group(1) if match else "latest"
    rows = parse_fred_csv(path.read_text(encoding="utf-8-sig"))
    key = series_id if vintage == "latest" else f"{series_id}@{vintage}"
    s.cpi_series[key] = store.upsert_cpi_observations(series_id, rows, vintage)


def parse_fred_csv(text: str) -> list[tuple[str, float | None]]:
    """FRED's ``observation_date,SERIES`` CSV as (month, value) pairs; ``.`` or empty means missing.

    Shared by the csv and the live fred source so both store exactly the same rows.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    if len(header) != 2 or header[0].strip().lower() != "observation_date":
        raise ValueError(f"not a FRED CSV: header {','.join(header)!r}")
    rows: list[tuple[str, float | None]] = []
    for record in reader:
        if not record or not record[0].strip():
            continue
        if len(record) != 2:
            raise ValueError(f"bad FRED row {','.join(record)!r}")
        d, v = record[0].strip(), record[1].strip()
        try:
            dt.date.fromisoformat(d)
        except ValueError:
            raise ValueError(f"bad FRED date {d!r}") from None
        try:
            value = None if v in ("", ".", "nan", "NaN") else float(v)
        except ValueError:
            raise ValueError(f"bad FRED value {v!r} on {d}") from None
        rows.append((d[:7], value))
    return rows


def _load_releases(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = pd.read_csv(path, dtype=str).fillna("")
    time_col = "release_time_et" if "release_time_et" in frame.columns else None
    rows = [
        (r["reference_month"], r["release_date"], (r[time_col] if time_col else "") or "08:30")
        for r in frame.to_dict("records")
    ]
    s.releases += store.set_cpi_releases(rows)


def _load_consensus(store: Store, path: Path, base: Path, header: list[str], s: LoadSummary) -> None:
    frame = pd.read_csv(path)

    rows = [
        {
            "month": str(r["reference_month"]),
            "measure": str(r["measure"]),
            "expected": as_float(r["expected"]),
            "actual": as_float(r.get("actual")),
        }
        for r in frame.to_dict("records")
    ]
    s.consensus += store.upsert_consensus(rows, source=path.name)


_LOADERS: dict[str, Callable[[Store, Path, Path, list[str], LoadSummary], None]] = {
    "prices": _load_prices,
    "long": _load_long,
    "members": _load_members,
    "membership": _load_membership,
    "fred": _load_fred,
    "releases": _load_releases,
    "consensus": _load_consensus,
}


class CsvSource:
    """Price-only view of a CSV folder through the ``Source`` protocol (tests, replays)."""

    name = "csv"

    def __init__(self, root: Path) -> None:
        self.root = root

    def fetch(self, symbols: Sequence[str], since: Mapping[str, dt.date | None]) -> FetchResult:
        result = FetchResult()
        for symbol in symbols:
            path = self.root / f"{symbol}.csv"
            if not path.exists():
                result.failures[symbol] = f"no file {path.name}"
                continue
            frame = read_price_file(path)
            start = since.get(symbol)
            if start is not None:
                frame = frame[frame.index > pd.Timestamp(start)]
            result.frames[symbol] = frame
            result.calls += 1
        return result
