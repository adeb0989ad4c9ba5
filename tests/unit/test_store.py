"""The SQLite store: idempotent upserts, wide-frame loading, schema migrations, alert de-duplication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from bot.errors import StoreError
from bot.store.db import SYMBOLS, Store
from rules import Alert, RuleState, State
from tests.support.factories import price_frame


def test_upsert_is_idempotent_and_counts_changes(store: Store) -> None:
    frame = price_frame([10.0, 11.0, 12.0])
    assert store.upsert_prices("AAA", frame) == 3
    assert store.upsert_prices("AAA", frame) == 0
    changed = frame.copy()
    changed.iloc[-1, 0] = 12.5
    assert store.upsert_prices("AAA", changed) == 1
    assert store.count_prices() == 3


def test_data_version_moves_only_on_change(store: Store) -> None:
    v0 = store.data_version()
    store.upsert_prices("AAA", price_frame([1.0, 2.0]))
    v1 = store.data_version()
    store.upsert_prices("AAA", price_frame([1.0, 2.0]))
    assert v1 == v0 + 1
    assert store.data_version() == v1


def test_load_prices_falls_back_between_close_and_adj_close(store: Store) -> None:
    idx = pd.bdate_range("2024-01-01", periods=3)
    store.upsert_prices("IDX", pd.DataFrame({"close": [1.0, 2.0, 3.0]}, index=idx))
    store.upsert_prices("ETF", pd.DataFrame({"adj_close": [5.0, 6.0, 7.0]}, index=idx))
    store.upsert_prices("STK", pd.DataFrame({"close": [10.0, 11.0, 12.0], "adj_close": [9.0, 10.0, 11.0]}, index=idx))
    close, adj = store.load_prices(["IDX", "ETF", "STK"])
    assert close["IDX"].tolist() == [1.0, 2.0, 3.0]
    assert adj["IDX"].tolist() == [1.0, 2.0, 3.0]
    assert close["ETF"].tolist() == [5.0, 6.0, 7.0]
    assert close["STK"].tolist() == [10.0, 11.0, 12.0]
    assert adj["STK"].tolist() == [9.0, 10.0, 11.0]


def test_load_prices_aligns_symbols_with_gaps_and_bounds(store: Store) -> None:
    store.upsert_prices("A", price_frame([1.0, 2.0, 3.0, 4.0]))
    late = price_frame([7.0, 8.0], start="2024-01-03")
    store.upsert_prices("B", late)
    close, _ = store.load_prices(["A", "B"], start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 3))
    assert [d.date().isoformat() for d in pd.DatetimeIndex(close.index)] == ["2024-01-02", "2024-01-03"]
    assert close["B"].isna().tolist() == [True, False]
    assert close.loc["2024-01-03", "B"] == 7.0


def test_load_prices_of_unknown_symbols_is_empty(store: Store) -> None:
    close, adj = store.load_prices(["NOPE"])
    assert close.empty and adj.empty


def test_last_dates_per_symbol(store: Store) -> None:
    store.upsert_prices("A", price_frame([1.0, 2.0]))
    store.upsert_prices("B", price_frame([1.0, 2.0, 3.0]))
    assert store.last_dates() == {"A": dt.date(2024, 1, 2), "B": dt.date(2024, 1, 3)}
    assert store.latest_date(["A"]) == dt.date(2024, 1, 2)


def test_states_round_trip(store: Store) -> None:
    st = RuleState(
        state=State.FIRING, active=True, streak=3, fired_at=dt.date(2024, 7, 17), last_day=dt.date(2024, 7, 19)
    )
    store.save_states({"r": st})
    assert store.load_states() == {"r": st}


def test_alerts_are_recorded_once(store: Store) -> None:
    a = Alert(rule="r", date=dt.date(2024, 7, 17), value=0.401, message="m")
    assert store.record_alerts([a]) == [a]
    assert store.record_alerts([a]) == []
    assert store.recent_alerts(5)[0]["rule"] == "r"


def test_reopening_keeps_data_and_applies_no_migration_twice(tmp_path: Path) -> None:
    s = Store(tmp_path / "x.sqlite")
    s.upsert_prices("A", price_frame([1.0]))
    s.close()
    s2 = Store(tmp_path / "x.sqlite")
    assert s2.count_prices() == 1
    names = [r[0] for r in s2.db.execute("SELECT name FROM _sqlite_migrations").fetchall()]
    assert len(names) == len(set(names))
    assert s2.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s2.close()


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("this is not a database" * 100)
    with pytest.raises(StoreError, match=r"the store .*bad\.sqlite is corrupt .*\.recover"):
        Store(bad)


def test_symbols_are_listed_by_seeks_not_a_scan_of_every_row(store: Store) -> None:
    """``status`` and ``check`` list every symbol to find future prices: DISTINCT read all 2 million rows (0.5 s)."""
    assert store.symbols() == []
    for symbol in ("^RUT", "AAA", "BRK-B"):
        store.upsert_prices(symbol, price_frame([1.0, 2.0, 3.0]))
    assert store.symbols() == ["AAA", "BRK-B", "^RUT"]
    plan = store.db.execute("EXPLAIN QUERY PLAN " + SYMBOLS).fetchall()
    assert not [row for row in plan if str(row[3]).startswith("SCAN prices")], plan
