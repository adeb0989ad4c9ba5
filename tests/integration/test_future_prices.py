"""A price dated after the latest session is refused where it enters (issue 28, item 2).

Rows dated 2030-01-02 in ^RUT.csv/^GSPC.csv loaded with exit 0; then `check` judged 2030-01-02, every real day
was a "look back … already checked to a later day" and `status` said "All good". Now the CSV source, Yahoo and the
store's guard refuse such a day; a store that already holds one is named by `status` and `check`, and
`fetch --drop-future` is the way out. The cut is the calendar's, made at ingest: the rules never read a clock.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from tenacity import wait_none

from bot.answers.status import future_prices
from bot.calendar import last_price_day
from bot.config.settings import parse_config
from bot.errors import StoreError
from bot.ingest.fetch import fetch_yahoo
from bot.ingest.sources.csvdir import load_directory
from bot.ingest.sources.yahoo import YahooSource
from bot.store import chats, outbox
from bot.store.db import Store
from rules import Alert
from tests.integration.test_csv_bad_rows import DAYS, GOOD, Work
from tests.support.factories import price_frame
from tests.support.fake_yahoo import FakeDownload, ohlcv
from tests.support.faultkit import DAY, frame

NY = ZoneInfo("America/New_York")
FUTURE = "2100-01-04"  # a Monday, far after any clock this runs on (the issue's typo was 2030-01-02)
CHAT = 111


@pytest.mark.parametrize(
    ("now", "last"),
    [
        ("2024-07-10T03:59", "2024-07-09"),  # Wednesday before 04:00 New York: Tuesday is the latest session
        ("2024-07-10T04:00", "2024-07-10"),  # from 04:00 (12 h before the close) Wednesday's counts
        ("2024-07-10T23:59", "2024-07-10"),  # never Thursday's, even late in the evening
        ("2024-07-13T12:00", "2024-07-12"),  # Saturday: Friday
        ("2024-07-04T12:00", "2024-07-03"),  # Independence Day: the session before
        ("2024-11-29T01:00", "2024-11-29"),  # an early close (13:00): from 01:00
        ("1990-07-10T03:00", "1990-07-09"),  # before the calendar's years: weekdays, a 16:00 close
    ],
)
def test_the_latest_session_a_price_may_be_dated(now: str, last: str) -> None:
    assert last_price_day(dt.datetime.fromisoformat(now).replace(tzinfo=NY)).isoformat() == last


def test_the_csv_source_refuses_a_day_after_the_latest_session_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "^RUT.csv").write_text("date,close\n2024-07-18,2100\n2024-07-19,2110\n2024-07-22,2120\n")
    store = Store(tmp_path / "s.sqlite")
    try:
        summary = load_directory(store, tmp_path, through=dt.date(2024, 7, 19))
        assert [str(r) for r in summary.refused] == [
            "^RUT.csv:4: date: 2024-07-22 is after the latest session (2024-07-19): it has no close yet"
        ]
        assert store.last_dates() == {"^RUT": dt.date(2024, 7, 19)}
    finally:
        store.close()


def test_fetch_refuses_the_issues_future_rows_and_loads_the_rest(tmp_path: Path) -> None:
    w = Work(tmp_path)
    w.write("indices/^RUT.csv", [*GOOD["indices/^RUT.csv"], f"{FUTURE},1,1,1,2500,2500,1"])
    w.write("indices/^GSPC.csv", [*GOOD["indices/^GSPC.csv"], f"{FUTURE},1,1,1,5000,5000,1"])
    result = w.fetch()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    session = r"\(\d{4}-\d\d-\d\d\)"
    lines = result.stderr.splitlines()
    assert re.fullmatch(rf"indices/\^GSPC.csv:37: date: {FUTURE} is after the latest session {session}: .*", lines[0])
    assert re.fullmatch(rf"indices/\^RUT.csv:37: date: {FUTURE} is after the latest session {session}: .*", lines[1])
    assert w.query("SELECT MAX(date) FROM prices") == [(DAYS[-1],)]


def test_the_store_guard_refuses_a_day_after_the_session_or_not_yet_begun(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    try:
        with pytest.raises(StoreError, match=r"date: 2024-01-03 is after the latest session \(2024-01-02\)"):
            store.upsert_prices("A", price_frame([1.0, 2.0, 3.0]), through=dt.date(2024, 1, 2))
        later = price_frame([1.0], start=(dt.date.today() + dt.timedelta(days=3)).isoformat())
        with pytest.raises(StoreError, match="is after the latest session"):  # a writer naming no session
            store.upsert_prices("A", later)
        assert store.count_prices() == 0
    finally:
        store.close()


def test_yahoo_rows_after_the_session_or_without_a_close_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config(
        {"data": {"symbols": ["^GSPC", "^RUT"]}, "store": {"path": "s.sqlite"}}, path=tmp_path / "c.toml"
    )
    yesterday = DAY - dt.timedelta(days=1)
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^GSPC", frame(np.full(30, 5000.0), yesterday))
    store.upsert_prices("^RUT", frame(np.full(30, 1900.0), yesterday))
    gspc = ohlcv(pd.DatetimeIndex([pd.Timestamp(DAY)], name="Date"), 5010.0)
    gspc["Close"] = np.nan  # Yahoo's answer without a Close, but with an Adj Close
    rut = ohlcv(pd.DatetimeIndex([pd.Timestamp(DAY), pd.Timestamp(FUTURE)], name="Date"), 2100.0)
    monkeypatch.setattr(yf, "download", FakeDownload({"^GSPC": gspc, "^RUT": rut}))
    after_close = dt.datetime.combine(DAY, dt.time(18, 0), tzinfo=NY)
    source = YahooSource(dt.date(2024, 1, 1), wait=wait_none(), now=lambda: after_close)
    try:
        report = fetch_yahoo(store, config, ["^GSPC", "^RUT"], source=source)
        assert "rows refused in ^GSPC, ^RUT" in report.summary()
        assert store.last_dates() == {"^GSPC": yesterday, "^RUT": DAY}
    finally:
        store.close()


class OldStore(Work):
    """The good folder, then the issue's rows as a store from before the refusal holds them, and a check on them."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        assert self.fetch().exit_code == 0
        store = Store(self.db)
        try:
            store.db.execute(
                "INSERT INTO prices VALUES ('^RUT', ?, 2500, 2500), ('^GSPC', ?, 5000, 5000)", [FUTURE, FUTURE]
            )
            store.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
            chats.subscribe(store, CHAT)
        finally:
            store.close()
        assert self.cli("check", "--as-of", DAYS[-1]).exit_code == 0
        store = Store(self.db)
        try:  # what the old `check` did with the rows: the rule judged FUTURE, its alert queued
            st = store.load_states()["ratio"]
            store.save_states({"ratio": st.but(last_day=dt.date.fromisoformat(FUTURE))})
            store.record_alerts([Alert(rule="ratio", date=dt.date.fromisoformat(FUTURE), value=0.5, message="x")])
            outbox.queue_text(store, f"ratio|{FUTURE}|firing", CHAT, "x")
        finally:
            store.close()


@pytest.fixture
def old(tmp_path: Path) -> Iterator[OldStore]:
    yield OldStore(tmp_path)


def test_status_and_check_name_future_prices_and_the_way_out(old: OldStore) -> None:
    named = rf"the store holds prices dated after the latest session \(\d{{4}}-\d\d-\d\d\): \^GSPC, \^RUT to {FUTURE};"
    way_out = "with `rotation-bot fetch --drop-future`"
    status = old.cli("status")
    assert status.exit_code == 1
    assert any(re.match(f"Warning: {named}", line) and way_out in line for line in status.stderr.splitlines())
    check = old.cli("check")
    assert check.exit_code == 1 and isinstance(check.exception, SystemExit), check.output
    assert re.match(f"Error: nothing was checked: {named}", check.stderr) and way_out in check.stderr
    real = old.cli("check", "--as-of", DAYS[-1], "--format", "json")
    assert real.exit_code == 0 and re.match(f"Warning: {named}", real.stderr), real.output
    assert "ratio" in json.loads(real.stdout)["historical"]  # the old check made a real day a look back


def test_drop_future_deletes_them_and_what_was_checked_on_them(old: OldStore) -> None:
    result = old.cli("fetch", "--drop-future")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"Dropped 2 prices dated after the latest session \(\d{4}-\d\d-\d\d\) of \^GSPC, \^RUT, the states of ratio "
        r"\(checked again from the next check on\), 1 alert and 1 queued message of those days\.\n",
        result.stdout,
    )
    assert old.query("SELECT MAX(date) FROM prices") == [(DAYS[-1],)]
    assert old.query("SELECT COUNT(*) FROM alerts WHERE date > ?", DAYS[-1]) == [(0,)]
    assert old.query("SELECT status FROM outbox WHERE alert_key = ?", f"ratio|{FUTURE}|firing") == [("dropped",)]
    assert "drop-future" not in old.cli("status").stderr
    check = old.cli("check", "--as-of", DAYS[-1], "--format", "json")
    assert check.exit_code == 0 and check.stderr == "", check.output
    assert json.loads(check.stdout)["historical"] == []  # a real day is no longer a look back
    again = old.cli("fetch", "--drop-future")
    assert again.stdout.startswith("No stored price is dated after the latest session")


def test_a_warning_about_many_future_symbols_names_five_a_day(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    try:
        rows = [(f"S{i:03d}", FUTURE, 1.0, 1.0) for i in range(40)] + [("^RUT", "2101-01-03", 1.0, 1.0)]
        store.db.conn.executemany("INSERT INTO prices VALUES (?, ?, ?, ?)", rows)
        config = parse_config({"store": {"path": "s.sqlite"}}, path=tmp_path / "c.toml")
        _, warning = future_prices(store, config, dt.datetime.now(dt.UTC))
        assert warning is not None
        assert f"S000, S001, S002, S003, S004 and 35 more to {FUTURE}; ^RUT to 2101-01-03;" in warning
    finally:
        store.close()


def test_drop_future_with_a_path_is_a_wrong_option_not_a_silent_drop(old: OldStore) -> None:
    result = old.cli("fetch", "--source", "csv", "--path", str(old.data), "--drop-future")
    assert result.exit_code == 2 and "--drop-future fetches nothing" in result.output
    assert old.query("SELECT MAX(date) FROM prices") == [(FUTURE,)]
