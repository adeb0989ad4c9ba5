"""Row validation for the CSV folder source: every cell that reaches the store is checked here first.

A cell that is not what its column promises refuses its whole row, reported as
``FILE:LINE: column: why`` (LINE counts the header as line 1, as an editor does). The row is skipped,
so the store keeps what it already had for it, and the rest of the file still loads. A price column empty
in the whole file is how the documented format says "this source lacks the column" (ETF files carry only
adj_close); an empty close in a file that carries closes, or for a symbol whose stored history has closes, is a
refused row, not a NULL over a stored close. So is a day after the latest session (a typo such as 2030).
An empty adj_close beside a close is not: the close stands in for it, as the store does for a missing
column (indices/^RUT.csv in the shared data has no adj_close after 2024-08-02).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from bot.values import FIRST_DAY, LAST_DAY, SYMBOL, finite, hh_mm, is_symbol, iso_date, iso_month, yahoo_symbol
from rules import CPI_MEASURES

T = TypeVar("T")
PRICES = ("close", "adj_close")


@dataclass(frozen=True)
class Refusal:
    """One refused row: where it is and what is wrong with it."""

    file: str
    line: int
    column: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.why}"


class CellError(ValueError):
    """A cell that is not what its column promises; the loader turns it into a ``Refusal``."""

    def __init__(self, column: str, why: str) -> None:
        super().__init__(why)
        self.column = column
        self.why = why


@dataclass
class Table:
    """A CSV file's data rows, indexed by line number; rows that cannot be read are already refused.

    Cells are text ("" when empty), except price columns the fast reader parsed as numbers (NaN when
    empty). Blank lines are skipped; a row with more or fewer fields than the header is refused,
    because its cells cannot be matched to columns.
    """

    name: str
    header: list[str]
    cells: pd.DataFrame
    refused: list[Refusal] = field(default_factory=list)

    def refuse(self, line: int, column: str, why: str) -> None:
        self.refused.append(Refusal(self.name, line, column, why))

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        names = [str(c) for c in self.cells.columns]
        for line, record in zip(self.cells.index, self.cells.to_numpy(dtype=object), strict=True):
            yield int(line), {k: str(v).strip() for k, v in zip(names, record, strict=True)}

    def parse(self, parse: Callable[[dict[str, str]], T]) -> list[T]:
        """``parse`` applied to each row; a row it raises ``CellError`` for is refused."""
        out: list[T] = []
        for line, row in self.rows():
            try:
                out.append(parse(row))
            except CellError as exc:
                self.refuse(line, exc.column, exc.why)
        return out


def _names(header: list[str]) -> list[str]:
    return [c.strip().lower().replace(" ", "_") for c in header]


def read_table(text: str, name: str) -> Table:
    """CSV text as a ``Table``; header names are lower case with ``_`` for spaces."""
    reader = csv.reader(io.StringIO(text))
    header = _names(next(reader, []))
    numbered = [(reader.line_num, record) for record in reader]  # line_num: where the row ends
    table = Table(name, header, pd.DataFrame())
    for line, record in numbered:
        if any(record) and len(record) != len(header):
            table.refuse(line, "row", f"{len(record)} fields, the header has {len(header)}")
    good = [(line, record) for line, record in numbered if any(record) and len(record) == len(header)]
    table.cells = pd.DataFrame(
        [record for _, record in good], index=[line for line, _ in good], columns=header, dtype=object
    )
    return table


def read_price_table(text: str, name: str) -> Table:
    """Like ``read_table``, but through pandas' C parser when every row is one line of the header's width.

    Price files are most of the data (two million rows in ../shared/data): parsed in C the numbers
    come out as floats, and row ``i`` is line ``i + 2``. A file with quotes (a cell may span lines) or
    a ragged row goes through ``read_table``, which numbers and refuses such rows exactly.
    """
    lines = text.splitlines()
    width = lines[0].count(",") if lines else 0
    if '"' in text or any(line.count(",") != width and line.strip(", ") for line in lines):
        return read_table(text, name)
    written = dict(zip(_names(lines[0].split(",")), lines[0].split(","), strict=True))  # no quotes: split is exact
    wanted = {written[c]: c for c in ("symbol", "date", *PRICES) if c in written}
    frame = pd.read_csv(
        io.StringIO(text),
        usecols=list(wanted),
        dtype={w: object for w, c in wanted.items() if c in ("symbol", "date")},  # prices: parsed as floats
        keep_default_na=False,  # only an empty cell is missing; "nan" or "n/a" is text, to be refused
        na_values=[""],
        skip_blank_lines=False,  # so row i is line i + 2
    ).rename(columns=wanted)
    frame.index = frame.index + 2
    return Table(name, list(written), frame[frame.notna().any(axis=1)])


# --- cells of the small files, one row at a time ---------------------------------------------------


def cell(row: dict[str, str], column: str, check: Callable[[str], T]) -> T:
    """``check(row[column])``, its ``ValueError`` becoming a ``CellError`` for that column."""
    try:
        return check(row.get(column, ""))
    except ValueError as exc:
        raise CellError(column, str(exc)) from None


def symbol(value: str) -> str:
    sym = yahoo_symbol(value)
    if not is_symbol(sym):
        raise ValueError(f'expected a ticker like BRK.B, got "{value}"' if value else "empty")
    return sym


def optional(check: Callable[[str], T]) -> Callable[[str], T | None]:
    """An empty cell is None (missing); anything else must pass ``check``."""
    return lambda value: check(value) if value else None


def number(value: str) -> float:
    return finite(value)


def level(value: str) -> float:
    return finite(value, positive=True)


def measure(value: str) -> str:
    if value not in CPI_MEASURES:
        raise ValueError(f'unknown measure "{value}"; known: {", ".join(CPI_MEASURES)}')
    return value


date, month, time_of_day = iso_date, iso_month, hh_mm


def span(row: dict[str, str]) -> tuple[str, str, str | None]:
    """A membership row: (symbol, start, end or None), the end not before the start."""
    ticker = cell(row, "ticker", symbol)
    start, end = cell(row, "start_date", date), cell(row, "end_date", optional(date))
    if end is not None and end < start:
        raise CellError("end_date", f"{end} is before start_date {start}")
    return ticker, start, end


# --- price rows, checked a column at a time (two million of them in ../shared/data) --------------


def price_frame(
    table: Table,
    through: dt.date | None = None,
    symbol: str | None = None,
    stored_closes: Callable[[Sequence[str]], Collection[str]] = lambda symbols: (),
) -> pd.DataFrame:
    """The table's valid rows as a frame of close/adj_close indexed by date (plus ``symbol`` in a long file).

    A row is refused for a date that does not parse or comes after ``through`` (the latest session), a price
    that is not a positive finite number (0, -1, n/a, inf, nan), no price at all, an empty close in a file that
    carries closes or of a symbol (``symbol``, or the long file's column) that ``stored_closes`` says has closes
    stored, or (long files) a symbol that is not a ticker.
    Duplicate dates keep the last row. Checked a column at a time: there are millions of rows.
    """
    cells = table.cells
    refused = np.zeros(len(cells), dtype=bool)

    def refuse(bad: pd.Series, column: str, why: str) -> None:
        """Refuse the rows ``bad`` marks (once each, for their first bad column); ``why`` gets the cell."""
        new = bad.to_numpy(dtype=bool) & ~refused
        for i in np.flatnonzero(new):
            shown = _shown(cells[column].iloc[i]) if column in cells else ""
            table.refuse(int(cells.index[int(i)]), column, why.format(shown))
        refused[new] = True

    out = pd.DataFrame(index=cells.index)
    if "symbol" in cells:
        out["symbol"] = cells["symbol"].fillna("").str.strip().str.upper().str.replace(".", "-", regex=False)
        refuse(~out["symbol"].str.fullmatch(SYMBOL.pattern), "symbol", 'expected a ticker like BRK.B, got "{}"')
    dates = pd.to_datetime(cells["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():  # stripping every cell first would cost more than the rest of the checks
        dates = pd.to_datetime(cells["date"].fillna("").str.strip(), format="%Y-%m-%d", errors="coerce")
    refuse(dates.isna(), "date", 'expected a date like 2024-07-11, got "{}"')
    outside = (dates < pd.Timestamp(FIRST_DAY)) | (dates > pd.Timestamp(LAST_DAY))
    refuse(outside, "date", f'expected a day from {FIRST_DAY} to {LAST_DAY}, got "{{}}"')
    if through is not None:
        why = f"{{}} is after the latest session ({through}): it has no close yet"
        refuse(dates > pd.Timestamp(through), "date", why)
    present = [c for c in PRICES if c in cells]
    empty = pd.DataFrame({c: _empty(cells[c]) for c in present})
    for c in present:
        values = pd.to_numeric(cells[c], errors="coerce")  # already floats from the fast reader
        refuse(~empty[c] & ~(np.isfinite(values) & (values > 0)), c, 'expected a positive number, got "{}"')
        out[c] = values
    refuse(empty.all(axis=1), "/".join(present), "no price on this row")
    if "close" in present and not empty["close"].all():  # the file carries closes: an empty one is a gap
        refuse(empty["close"], "close", "empty")
    names = out["symbol"] if "symbol" in out else pd.Series(symbol, index=out.index, dtype=object)
    no_close = (empty["close"] if "close" in present else pd.Series(True, index=out.index)) & ~refused
    if symbol is not None or "symbol" in out:  # a row without a close would erase a stored one, or mix bases
        codes, uniques = pd.factorize(names.where(no_close, ""))  # one pass: a long file has millions of rows
        closed = set(stored_closes(sorted(set(uniques) - {""}))) if no_close.any() else set()
        for code, name in enumerate(uniques):
            if name in closed:
                why = f"empty, and the store holds closes of {name}: a row without one would erase them"
                refuse(pd.Series(codes == code, index=out.index), "close", why)
    table.refused.sort(key=lambda r: r.line)
    out = out[~refused].set_index(pd.DatetimeIndex(dates[~refused], name="date")).sort_index(kind="stable")
    if "symbol" in out:
        return out[~pd.MultiIndex.from_arrays([out["symbol"], out.index]).duplicated(keep="last")]
    return out[~out.index.duplicated(keep="last")]


def _empty(column: pd.Series) -> pd.Series:
    if column.dtype == float:  # parsed by the fast reader: NaN is an empty cell
        return column.isna()
    return column.isna() | (column.astype(str).str.strip() == "")


def _shown(cell: object) -> str:
    """A cell as the file wrote it, near enough: the fast reader has already made numbers floats."""
    if isinstance(cell, float):
        return "" if np.isnan(cell) else f"{cell:g}"
    return str(cell).strip()
