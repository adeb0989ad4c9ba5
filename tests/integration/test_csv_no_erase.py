"""A row without a close never replaces a stored close (issue 28, item 3).

`printf 'date,open,high,low,close,adj_close,volume\\n2024-07-10,1,1,1,,1,1\\n' > '^GSPC.csv'` loaded with exit 0,
erased the stored close of 5633.91, and the ratio on 2024-07-10 read 2051.75 (^RUT over the adj_close of 1) instead
of 0.3642. For a symbol whose stored history has closes, such a row is now refused with its line (exit 1), in every
CSV kind; a Yahoo answer without a Close leaves the day out; and the store itself never writes a NULL over a price.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.store.db import Store
from tests.integration.test_csv_bad_rows import DAYS, PRICE_HEADER, Work
from tests.support.factories import price_frame

DAY = DAYS[5]  # ^RUT 2005, ^GSPC 5000 in the good folder
RATIO = 2005 / 5000
ERASES = "close: empty, and the store holds closes of ^GSPC: a row without one would erase them"


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Work]:
    w = Work(tmp_path)
    assert w.fetch().exit_code == 0
    yield w


def ratio_on(work: Work, day: str) -> float:
    result = work.cli("check", "--as-of", day, "--format", "json")
    assert result.exit_code == 0, result.output
    return float(next(r["value"] for r in json.loads(result.stdout)["rules"] if r["name"] == "ratio"))


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("^GSPC.csv", [PRICE_HEADER, f"{DAY},1,1,1,,1,1"]),  # the file: full OHLC, the close empty
        ("^GSPC.csv", ["date,adj_close", f"{DAY},1"]),  # no close column at all
        ("long.csv", ["symbol,date,close,adj_close", f"^GSPC,{DAY},,1"]),
        ("long.csv", ["symbol,date,adj_close", f"^GSPC,{DAY},1"]),
    ],
)
def test_a_row_without_close_is_refused_and_the_stored_close_kept(work: Work, name: str, lines: list[str]) -> None:
    assert ratio_on(work, DAY) == pytest.approx(RATIO)
    work.write(f"../bad/{name}", lines)
    result = work.fetch(work.root / "bad")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.splitlines()[0] == f"{name}:2: {ERASES}"
    assert work.close("^GSPC", DAY) == 5000
    assert ratio_on(work, DAY) == pytest.approx(RATIO)


def test_symbols_without_stored_closes_still_load_adj_close_beside_a_refused_row(work: Work) -> None:
    """An ETF file (adj_close only) is not refused: RSP's stored history has no closes; ^GSPC's row is."""
    later = pd.Timestamp(DAYS[-1]) + pd.offsets.BDay(1)
    day = later.strftime("%Y-%m-%d")
    work.write("../bad/long.csv", ["symbol,date,adj_close", f"RSP,{day},300", f"^GSPC,{day},1", f"NEW,{day},7"])
    result = work.fetch(work.root / "bad")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"long.csv:3: {ERASES}"
    assert work.query("SELECT symbol, close, adj_close FROM prices WHERE date = ? ORDER BY symbol", day) == [
        ("NEW", None, 7.0),
        ("RSP", None, 300.0),
    ]


def test_the_store_never_writes_nothing_over_a_stored_price(tmp_path: Path) -> None:
    """Whoever writes (a live source, a future importer): NaN means missing and keeps what is stored."""
    store = Store(tmp_path / "s.sqlite")
    try:
        store.upsert_prices("A", price_frame([10.0, 11.0, 12.0]))
        days = price_frame([0.0, 0.0, 0.0]).index
        gaps = pd.DataFrame({"close": [np.nan, 21.0, np.nan], "adj_close": [9.0, np.nan, np.nan]}, index=days)
        assert store.upsert_prices("A", gaps) == 2  # the third row changes nothing
        rows = store.db.execute("SELECT close, adj_close FROM prices WHERE symbol = 'A' ORDER BY date").fetchall()
        assert [tuple(r) for r in rows] == [(10.0, 9.0), (21.0, 11.0), (12.0, 12.0)]
        close, _ = store.load_prices(["A"])
        assert close["A"].tolist() == [10.0, 21.0, 12.0]
    finally:
        store.close()


def test_a_long_file_names_each_symbol_whose_stored_closes_a_row_would_erase(work: Work) -> None:
    lines = ["symbol,date,adj_close", f"^RUT,{DAY},1", f"RSP,{DAY},300", f"^GSPC,{DAY},1", f"^RUT,{DAYS[6]},1"]
    work.write("../bad/long.csv", lines)
    result = work.fetch(work.root / "bad")
    assert result.stderr.splitlines()[:3] == [
        "long.csv:2: close: empty, and the store holds closes of ^RUT: a row without one would erase them",
        f"long.csv:4: {ERASES}",
        "long.csv:5: close: empty, and the store holds closes of ^RUT: a row without one would erase them",
    ]
    assert (work.close("^RUT", DAY), work.close("^GSPC", DAY)) == (2005, 5000)
