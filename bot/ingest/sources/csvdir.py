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
``adj_close`` (the store keeps both). A price dated after the latest session (``bot.calendar.last_price_day``)
is refused with its line, and so is a row without a close of a symbol whose stored history has closes.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import pandas as pd

from bot.calendar import last_price_day
from bot.errors import StoreError
from bot.ingest.sources import csvrows
from bot.ingest.sources.base import FetchResult
from bot.ingest.sources.csvrows import Refusal, Table
from bot.store import Store
from bot.store.cpi import release_clashes
from bot.values import is_symbol, yahoo_symbol

Loader = Callable[[Store, Table, Path, Path, "LoadSummary"], int]
VINTAGE = re.compile(r"_vintage_(\d{4}-\d{2}-\d{2})$")


@dataclass
class LoadSummary:
    """What a folder load did, for the CLI summary line; ``loaded`` counts the rows that passed the checks."""

    symbols: int = 0
    rows: int = 0
    files: int = 0
    loaded: int = 0
    universes: dict[str, int] = field(default_factory=dict)
    membership: dict[str, int] = field(default_factory=dict)
    cpi_series: dict[str, int] = field(default_factory=dict)
    releases: int = 0
    consensus: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        row = next(csv.reader(fh), [])
    return [c.strip().lower().replace(" ", "_") for c in row]


def _table(path: Path, name: str, kind: str) -> Table:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        text = fh.read()
    return (csvrows.read_price_table if kind in ("prices", "long") else csvrows.read_table)(text, name)


def read_price_file(path: Path, through: dt.date | None = None) -> pd.DataFrame:
    """One symbol's CSV as a frame of close/adj_close indexed by date (refused rows left out, and days
    after ``through``)."""
    return csvrows.price_frame(_table(path, path.name, "prices"), through)


def latest_session() -> dt.date:
    """The last day a price may be dated now, on the NYSE calendar (a caller with a config passes its exchange's)."""
    return last_price_day(dt.datetime.now(dt.UTC))


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
    if "date" in cols and ("close" in cols or "adj_close" in cols):
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
    through: dt.date | None = None,
) -> LoadSummary:
    """Load every recognised CSV under ``root`` (a folder or a single file) into the store.

    Refused rows are collected in ``summary.refused``; a file with no row to load is a failure
    and changes nothing in the store (an empty member list must not wipe the stored one). A price
    dated after ``through`` (default: ``latest_session()``, asked on the first price file) is refused.
    """
    summary = LoadSummary()
    cut = cache(lambda: through or latest_session())
    loaders: dict[str, Loader] = {
        **_LOADERS,
        "prices": partial(_load_prices, cut=cut),
        "long": partial(_load_long, cut=cut),
    }
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.csv") if not p.is_dir())
    base = root if root.is_dir() else root.parent
    for path in files:
        if on_file:
            on_file(path)
        name = path.relative_to(base).as_posix()
        try:
            if not path.is_file():  # a dangling symlink or a loop: said, not silently left out
                path.stat()
            header = _header(path)
            kind = _kind(path, header)
            if kind is None or (only_prices and kind not in ("prices", "long")):
                summary.skipped.append(path.name)
                continue
            summary.files += 1
            table = _table(path, name, kind)
            loaded = loaders[kind](store, table, path, base, summary)
            summary.refused += table.refused
            summary.loaded += loaded
            if not loaded:
                summary.failures[name] = "no valid rows" if table.refused else "no rows"
        except UnicodeDecodeError as exc:
            summary.failures[name] = f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        except OSError as exc:
            summary.failures[name] = f"cannot read it: {exc.strerror or exc}"
        except (ValueError, csv.Error, StoreError) as exc:
            summary.failures[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return summary


def _load_prices(store: Store, table: Table, path: Path, base: Path, s: LoadSummary, cut: Callable[[], dt.date]) -> int:
    symbol = yahoo_symbol(path.stem)  # spy.csv is SPY, BRK.B.csv is BRK-B, as the rules spell them
    if not is_symbol(symbol):
        raise ValueError(f'the file name is no ticker as Yahoo spells it (^GSPC, BRK-B), got "{path.stem}"')
    frame = csvrows.price_frame(table, cut(), symbol, store.with_closes)
    if not frame.empty:
        s.rows += store.upsert_prices(symbol, frame, cut())
        s.symbols += 1
    return len(frame)


def _load_long(store: Store, table: Table, path: Path, base: Path, s: LoadSummary, cut: Callable[[], dt.date]) -> int:
    frame = csvrows.price_frame(table, cut(), stored_closes=store.with_closes)
    for symbol, part in frame.groupby("symbol"):
        s.rows += store.upsert_prices(str(symbol), part.drop(columns="symbol"), cut())
        s.symbols += 1
    return len(frame)


def _load_members(store: Store, table: Table, path: Path, base: Path, s: LoadSummary) -> int:
    members = {
        m["symbol"]: m
        for m in table.parse(
            lambda r: {
                "symbol": csvrows.cell(r, "symbol", csvrows.symbol),
                "name": r.get("name") or None,
                "sector": r.get("sector") or None,
            }
        )
    }
    if members:
        # With refused rows the list is incomplete: add and update, but drop no stored member.
        universe = _universe_name(path, base)
        s.universes[universe] = store.set_universe(
            universe, list(members.values()), source=str(path), replace=not table.refused
        )
    return len(members)


def _load_membership(store: Store, table: Table, path: Path, base: Path, s: LoadSummary) -> int:
    spans = table.parse(csvrows.span)
    if spans:
        universe = _universe_name(path, base)
        s.membership[universe] = store.set_membership(universe, spans, replace=not table.refused)
    return len(spans)


def _load_fred(store: Store, table: Table, path: Path, base: Path, s: LoadSummary) -> int:
    series_id = table.header[1].upper()
    match = VINTAGE.search(path.stem)
    vintage = csvrows.date(match.group(1)) if match else "latest"
    rows = fred_rows(table)
    if rows:
        key = series_id if vintage == "latest" else f"{series_id}@{vintage}"
        s.cpi_series[key] = store.upsert_cpi_observations(series_id, rows, vintage)
    return len(rows)


def fred_rows(table: Table) -> list[tuple[str, float | None]]:
    """FRED's ``observation_date,SERIES`` rows as (month, level); ``.`` or empty is FRED's "missing"."""
    series = table.header[1]

    def row(r: dict[str, str]) -> tuple[str, float | None]:
        day = csvrows.cell(r, "observation_date", csvrows.date)
        value = r[series]
        try:
            return day[:7], None if value in ("", ".") else csvrows.level(value)
        except ValueError as exc:
            raise csvrows.CellError(series.upper(), str(exc)) from None

    return table.parse(row)


def parse_fred_csv(text: str) -> list[tuple[str, float | None]]:
    """FRED's CSV as (month, value) pairs; ``ValueError`` naming the first bad row.

    The live fred source uses it, so both store exactly the same rows; a download with a bad row
    is refused whole (the stored series is kept) rather than stored in part.
    """
    table = csvrows.read_table(text.lstrip("\ufeff"), "FRED CSV")
    if len(table.header) != 2 or table.header[0] != "observation_date":
        raise ValueError(f"not a FRED CSV: header {','.join(table.header)!r}")
    rows = fred_rows(table)
    if table.refused:
        raise ValueError(str(table.refused[0]))
    return rows


def _load_releases(store: Store, table: Table, path: Path, base: Path, s: LoadSummary) -> int:
    def row(r: dict[str, str]) -> tuple[str, str, str]:
        return (
            csvrows.cell(r, "reference_month", csvrows.month),
            csvrows.cell(r, "release_date", csvrows.date),
            csvrows.cell(r, "release_time_et", csvrows.optional(csvrows.time_of_day)) or "08:30",
        )

    parsed = table.parse(row)
    # One month per release day (the rules index releases by day): a second month on a day refuses its row.
    clashes = release_clashes(store.cpi_releases(), parsed)
    rows = []
    for i, (line, (m, d, t)) in enumerate(zip(_parsed_lines(table), parsed, strict=True)):
        if i in clashes:
            table.refuse(line, "release_date", f"{d} is already the release day of {clashes[i]}")
        else:
            rows.append((m, d, t))
    table.refused.sort(key=lambda r: r.line)
    if rows:
        s.releases += store.set_cpi_releases(rows)
    return len(rows)


def _parsed_lines(table: Table) -> list[int]:
    """The lines of the rows ``table.parse`` returned, in order: every data line it did not refuse."""
    refused = {r.line for r in table.refused}
    return [int(line) for line in table.cells.index if int(line) not in refused]


def _load_consensus(store: Store, table: Table, path: Path, base: Path, s: LoadSummary) -> int:
    def row(r: dict[str, str]) -> dict[str, object]:
        csvrows.cell(r, "release_date", csvrows.date)
        return {
            "month": csvrows.cell(r, "reference_month", csvrows.month),
            "measure": csvrows.cell(r, "measure", csvrows.measure),
            "expected": csvrows.cell(r, "expected", csvrows.optional(csvrows.number)),
            "actual": csvrows.cell(r, "actual", csvrows.optional(csvrows.number)),
        }

    rows = table.parse(row)
    if rows:
        s.consensus += store.upsert_consensus(rows, source=path.name)
    return len(rows)


_LOADERS: dict[str, Loader] = {
    "members": _load_members,
    "membership": _load_membership,
    "fred": _load_fred,
    "releases": _load_releases,
    "consensus": _load_consensus,
}


class CsvSource:
    """Price-only view of a CSV folder through the ``Source`` protocol (tests, replays)."""

    name = "csv"

    def __init__(self, root: Path, through: dt.date | None = None) -> None:
        self.root = root
        self.through = through  # the last day a price may be dated (default: the latest session at each fetch)

    def fetch(self, symbols: Sequence[str], since: Mapping[str, dt.date | None]) -> FetchResult:
        result = FetchResult()
        through = self.through or latest_session()
        for symbol in symbols:
            path = self.root / f"{symbol}.csv"
            if not path.exists():
                result.failures[symbol] = f"no file {path.name}"
                continue
            frame = read_price_file(path, through)
            start = since.get(symbol)
            if start is not None:
                frame = frame[frame.index > pd.Timestamp(start)]
            result.frames[symbol] = frame
            result.calls += 1
        return result
