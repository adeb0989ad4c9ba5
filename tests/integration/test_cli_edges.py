"""Edges of the offline command line: dates at the ends of the calendar, two CPI months on one release day,
non-numbers in numeric options, a [store] path that is no file, and two processes writing one store.

Each was once a traceback, a wrong cause or a zero exit; the folder of test_csv_bad_rows is the data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.integration.test_csv_bad_rows import DAYS, GOOD, Work, assert_everything_runs, refused


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Work]:
    w = Work(tmp_path)
    first = w.fetch()
    assert first.exit_code == 0, first.output
    yield w


@pytest.mark.parametrize("day", ["0001-01-03", "1799-12-31", "9999-12-31", "2262-04-12"])
def test_a_price_dated_outside_the_calendar_is_refused_and_nothing_crashes_after(work: Work, day: str) -> None:
    work.write("sp500/prices/AAA.csv", [*GOOD["sp500/prices/AAA.csv"], f"{day},1,1,1,120,120,100"])
    refused(
        work.fetch(),
        f"sp500/prices/AAA.csv:{len(GOOD['sp500/prices/AAA.csv']) + 1}: date: "
        f'expected a day from 1800-01-01 to 2199-12-31, got "{day}"',
    )
    assert work.query("SELECT count(*) FROM prices WHERE date = ?", day) == [(0,)]
    assert_everything_runs(work)
    for args in (["rules", "list"], ["stats", "ratio"], ["check", "--format", "json"]):
        result = work.cli(*args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
    assert json.loads(work.cli("check", "--format", "json").stdout)["as_of"] == DAYS[-1]


def test_a_release_or_span_dated_outside_the_calendar_is_refused(work: Work) -> None:
    work.write("cpi/release_dates.csv", [*GOOD["cpi/release_dates.csv"], "9999-12,9999-12-31,08:30"])
    work.write("sp500/membership/spans.csv", [*GOOD["sp500/membership/spans.csv"], "CCC,0001-01-01,"])
    refused(
        work.fetch(),
        'cpi/release_dates.csv:5: reference_month: expected a month from 1800-01 to 2199-12, got "9999-12"',
        'sp500/membership/spans.csv:4: start_date: expected a day from 1800-01-01 to 2199-12-31, got "0001-01-01"',
    )
    assert_everything_runs(work)


@pytest.mark.parametrize("command", ["replay", "whatif ratio"])
def test_replay_from_the_first_day_of_the_calendar_is_no_traceback(work: Work, command: str) -> None:
    result = work.cli(*command.split(), "--from", "0001-01-01", "--format", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1), result.output


def test_two_cpi_months_on_one_release_day_are_refused_not_a_crash_of_every_check(work: Work) -> None:
    work.write("cpi/release_dates.csv", [*GOOD["cpi/release_dates.csv"], "2024-07,2024-07-11,08:30"])
    refused(
        work.fetch(),
        "cpi/release_dates.csv:5: release_date: 2024-07-11 is already the release day of 2024-06",
    )
    assert work.query("SELECT count(*) FROM cpi_releases WHERE release_date = '2024-07-11'") == [(1,)]
    assert_everything_runs(work)


def test_the_store_refuses_a_second_month_on_a_stored_release_day(work: Work) -> None:
    work.write("more/release_dates.csv", ["reference_month,release_date,release_time_et", "2024-07,2024-07-11,08:30"])
    result = work.fetch(work.data / "more")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "2024-07-11 is already the release day of 2024-06" in result.stderr
    assert_everything_runs(work)


@pytest.mark.parametrize("option", ["--min-gap", "--max-days"])
def test_rotation_refuses_nan(work: Work, option: str) -> None:
    result = work.cli("rotation", option, "nan")
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.stderr


def test_check_far_after_the_data_says_so_rather_than_no_prices_stored(work: Work) -> None:
    result = work.cli("check", "--as-of", "2030-01-02", "--format", "json")
    assert "no prices stored" not in result.output, result.output
    errors = {r["name"]: r.get("error") for r in json.loads(result.stdout)["rules"]}
    window = "from 2028-11-09 to 2030-01-02: the last stored one is of 2024-07-19"
    assert errors["ratio"] == f"no close of ^GSPC {window}"
    assert errors["breadth"] == f"no close of any member of sp500 {window}"


@pytest.mark.parametrize("path", ["", "{dir}"])
def test_a_store_path_that_is_a_folder_says_so(tmp_path: Path, path: str) -> None:
    w = Work(tmp_path)
    w.config.write_text(f'[store]\npath = "{path.format(dir=tmp_path)}"\n')
    result = w.cli("check")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "is a folder, not a file" in result.stderr and "read-only" not in result.stderr, result.stderr


def test_a_store_path_with_a_nul_byte_is_one_line(tmp_path: Path) -> None:
    w = Work(tmp_path)
    w.config.write_text('[store]\npath = "a\\u0000b"\n')
    result = w.cli("check")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith("Error: ") and "holds a NUL character" in result.stderr, result.stderr


def test_a_store_transaction_holds_the_write_lock_from_its_start(work: Work) -> None:
    store = Store(work.db)
    other = sqlite3.connect(work.db, timeout=0, isolation_level=None)
    try:
        with store.transaction():
            store.get_meta("data_version")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        store.close()


def test_a_price_file_named_by_no_ticker_is_refused_and_a_lower_case_name_is_its_ticker(work: Work) -> None:
    work.write("more/a b.csv", ["date,close", "2024-07-22,10"])
    work.write("more/spy.csv", ["date,close", "2024-07-22,10"])
    result = work.fetch(work.data / "more")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert 'a b.csv: the file name is no ticker as Yahoo spells it (^GSPC, BRK-B), got "a b"' in result.stderr
    assert work.query("SELECT DISTINCT symbol FROM prices WHERE date = '2024-07-22'") == [("SPY",)]


def test_a_csv_that_cannot_be_read_is_named_with_its_cause(work: Work) -> None:
    more = work.data / "more"
    more.mkdir()
    (more / "BIN.csv").write_bytes(b"\xff\xfe\x00\x9c garbage")
    (more / "L1.csv").symlink_to("L2.csv")
    (more / "L2.csv").symlink_to("L1.csv")
    result = work.fetch(more)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.splitlines()
    assert "BIN.csv: not UTF-8 text (byte 0xff at offset 0)" in lines, lines
    assert any(line.startswith("L1.csv: cannot read it: ") and "symbolic links" in line for line in lines), lines
    assert lines[-1].startswith("Error: nothing loaded"), lines
