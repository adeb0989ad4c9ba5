"""load_prices' cache: a cached read equals a fresh one, and any price write invalidates it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from bot.store.db import Store
from tests.support.factories import price_frame


def _fresh(path: Path, symbols: list[str], start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    other = Store(path)
    try:
        return other.load_prices(symbols, start=start, end=end)[0]
    finally:
        other.close()


def test_cached_reads_match_fresh_reads_for_any_range(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("A", price_frame(np.arange(1.0, 41.0), start="2024-01-01"))
    store.upsert_prices("B", price_frame(np.arange(100.0, 120.0), start="2024-01-15"))
    ranges = [
        (dt.date(2024, 1, 10), dt.date(2024, 1, 20)),
        (None, dt.date(2024, 1, 5)),  # widens the cached span backwards
        (dt.date(2024, 1, 3), None),  # and forwards
        (dt.date(2024, 1, 16), dt.date(2024, 1, 18)),  # inside what is cached
        (None, None),
    ]
    for start, end in ranges:
        got = store.load_prices(["A", "B"], start=start, end=end)[0]
        pd.testing.assert_frame_equal(got, _fresh(store.path, ["A", "B"], start, end))
    store.close()


def test_a_price_write_is_seen_by_the_next_load(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("A", price_frame([1.0, 2.0, 3.0]))
    assert store.load_prices(["A"])[0]["A"].tolist() == [1.0, 2.0, 3.0]
    store.upsert_prices("A", price_frame([1.0, 2.0, 3.5, 4.0]))
    assert store.load_prices(["A"])[0]["A"].tolist() == [1.0, 2.0, 3.5, 4.0]
    # A write through another connection bumps the shared data_version too.
    other = Store(store.path)
    other.upsert_prices("A", price_frame([9.0]))
    other.close()
    assert store.load_prices(["A"])[0]["A"].tolist() == [9.0, 2.0, 3.5, 4.0]
    store.close()


def test_history_is_kept_as_one_column_row_per_symbol_and_dropped_on_write(tmp_path: Path) -> None:
    """A new Store (a new process) reads a symbol's stored column instead of its price rows."""
    first = Store(tmp_path / "s.sqlite")
    first.upsert_prices("A", price_frame([1.0, 2.0, 3.0]))
    first.upsert_prices("B", price_frame([5.0, 6.0]))
    expected = first.load_prices(["A", "B"])
    assert first.db.execute("SELECT COUNT(*) FROM price_columns").fetchone()[0] == 2
    first.close()
    second = Store(tmp_path / "s.sqlite")
    second.db.execute("UPDATE prices SET close = 99 WHERE symbol = 'A'")  # behind the store's back: not seen
    got = second.load_prices(["A", "B"])
    pd.testing.assert_frame_equal(got[0], expected[0])
    pd.testing.assert_frame_equal(got[1], expected[1])
    second.upsert_prices("A", price_frame([1.0, 2.0, 4.0]))  # a real write drops A's column only
    symbols = [r[0] for r in second.db.execute("SELECT symbol FROM price_columns").fetchall()]
    assert symbols == ["B"]
    assert second.load_prices(["A"])[0]["A"].tolist() == [1.0, 2.0, 4.0]
    second.close()
