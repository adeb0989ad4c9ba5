"""The stored price columns follow every write: new days are read from the rows after the column (kept as it is
until enough of them accumulate), any change to a day the column covers drops it; reads always equal the rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.store.db import Store
from bot.store.pricecache import TAIL_ROWS
from tests.support.factories import price_frame


def _column_days(store: Store, symbol: str) -> list[str] | None:
    row = store.db.execute("SELECT days FROM price_columns WHERE symbol = ?", [symbol]).fetchone()
    if row is None:
        return None
    return [str(d) for d in np.frombuffer(row[0], dtype=np.int64).astype("datetime64[D]")]


def _rebuilt(store: Store, symbol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a store without any cached column reads (straight from the rows)."""
    other = Store(store.path)
    try:
        other.db.execute("DELETE FROM price_columns")
        return other.load_prices([symbol])
    finally:
        other.db.conn.rollback()
        other.close()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.sqlite")
    s.upsert_prices("A", price_frame(np.arange(1.0, 21.0), start="2024-01-01"))
    s.load_prices(["A"])  # builds and stores A's column
    assert _column_days(s, "A") is not None
    return s


def _assert_column_is_the_rows(store: Store) -> None:
    fresh = Store(store.path)  # a new process: reads the stored column, not the memory cache
    try:
        got = fresh.load_prices(["A"])
    finally:
        fresh.close()
    want = _rebuilt(store, "A")
    pd.testing.assert_frame_equal(got[0], want[0])
    pd.testing.assert_frame_equal(got[1], want[1])


def test_a_new_day_keeps_the_stored_column_and_is_read_after_it(store: Store) -> None:
    before = _column_days(store, "A")
    assert before is not None
    assert store.upsert_prices("A", price_frame([21.0], start="2024-01-29")) == 1
    assert _column_days(store, "A") == before  # not rewritten, not dropped
    _assert_column_is_the_rows(store)  # and the new day is read with it


def test_the_column_is_rewritten_once_many_days_came_after_it(store: Store) -> None:
    before = _column_days(store, "A")
    assert before is not None
    days = TAIL_ROWS + 1
    assert store.upsert_prices("A", price_frame(np.arange(100.0, 100.0 + days), start="2024-01-29")) == days
    _assert_column_is_the_rows(store)  # a fresh process reads the rows after the column, then stores it whole
    after = _column_days(store, "A")
    assert after is not None and len(after) == len(before) + days


def test_the_daily_refetch_of_known_days_plus_one_new_day_appends(store: Store) -> None:
    """The live fetch asks again for the last two weeks: unchanged days cost nothing, the new one is appended."""
    frame = price_frame(np.arange(11.0, 22.0), start="2024-01-15")  # days 11..20 as stored, then a new day
    before = _column_days(store, "A")
    assert store.upsert_prices("A", frame) == 1
    assert _column_days(store, "A") == before
    _assert_column_is_the_rows(store)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: price_frame([99.0], start="2024-01-10"), id="revised-old-day"),
        pytest.param(lambda: price_frame([5.0, 50.0], start="2024-01-26"), id="revised-last-day-and-a-new-one"),
        pytest.param(lambda: price_frame([7.0], start="2023-12-29"), id="day-before-the-first"),
        pytest.param(lambda: price_frame([7.0], start="2024-01-06"), id="weekend-day-inserted"),
    ],
)
def test_any_other_change_drops_the_column_and_reads_stay_exact(store: Store, write) -> None:
    assert store.upsert_prices("A", write()) > 0
    assert _column_days(store, "A") is None
    _assert_column_is_the_rows(store)


def test_a_missing_close_is_appended_as_nan_and_read_back_from_adj_close(store: Store) -> None:
    frame = pd.DataFrame({"close": [np.nan], "adj_close": [3.5]}, index=pd.DatetimeIndex(["2024-01-29"], name="date"))
    assert store.upsert_prices("A", frame) == 1
    assert _column_days(store, "A") is not None
    _assert_column_is_the_rows(store)


def test_a_revision_inside_a_batch_of_new_days_counts_every_changed_row(store: Store) -> None:
    frame = price_frame([5.0, 50.0, 51.0], start="2024-01-26")  # the last stored day revised, two new days
    assert store.upsert_prices("A", frame) == 3
    assert _column_days(store, "A") is None
    _assert_column_is_the_rows(store)
