"""The CSV folder source: every file kind is recognised by its header and loaded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from bot.ingest.sources.csvdir import CsvSource, load_directory
from bot.store.db import Store

PRICES = "date,open,high,low,close,adj_close,volume\n2024-01-02,1,1,1,10,9,100\n2024-01-03,1,1,1,11,10,100\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_loads_each_kind(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "data"
    write(root / "indices" / "^RUT.csv", PRICES)
    write(root / "indices" / "SPY.csv", "date,open,high,low,close,adj_close,volume\n2024-01-02,,,,,5.5,1\n")
    write(root / "long.csv", "symbol,date,close\nAAA,2024-01-02,1\nBBB,2024-01-02,2\n")
    write(root / "sp500" / "members.csv", "symbol,name,sector\nBRK.B,Berkshire,Financials\nAAPL,Apple,IT\n")
    write(
        root / "sp500" / "membership" / "spans.csv",
        "ticker,start_date,end_date\nAAPL,1996-01-02,\nOLD,1996-01-02,2001-01-01\n",
    )
    write(root / "cpi" / "CPIAUCSL.csv", "observation_date,CPIAUCSL\n2024-05-01,313.1\n2024-06-01,313.0\n2025-10-01,\n")
    write(root / "cpi" / "CPIAUCSL_vintage_2024-11-13.csv", "observation_date,CPIAUCSL\n2024-06-01,313.049\n")
    write(
        root / "cpi" / "release_dates.csv", "reference_month,release_date,release_time_et\n2024-06,2024-07-11,08:30\n"
    )
    write(
        root / "cpi" / "consensus.csv",
        "release_date,reference_month,measure,expected,actual,previous\n2024-07-11,2024-06,headline_yoy,3.1,3.0,3.3\n",
    )
    write(root / "README.csv", "foo,bar\n1,2\n")
    summary = load_directory(store, root)
    assert summary.symbols == 4
    assert summary.universes == {"sp500": 2}
    assert store.universe("sp500") == ("AAPL", "BRK-B")
    assert summary.membership == {"sp500": 2}
    assert ("OLD", "1996-01-02", "2001-01-01") in store.membership_spans("sp500")
    assert summary.releases == 1 and summary.consensus == 1
    assert summary.skipped == ["README.csv"]
    close, adj = store.load_prices(["^RUT", "SPY", "AAA"])
    assert close.loc["2024-01-03", "^RUT"] == 11 and adj.loc["2024-01-03", "^RUT"] == 10
    assert close.loc["2024-01-02", "SPY"] == 5.5
    vintages = store.db.execute("SELECT vintage, COUNT(*) FROM cpi_observations GROUP BY vintage").fetchall()
    assert dict(vintages) == {"2024-11-13": 1, "latest": 3}


def test_reloading_adds_nothing(tmp_path: Path, store: Store) -> None:
    write(tmp_path / "A.csv", PRICES)
    assert load_directory(store, tmp_path).rows == 2
    assert load_directory(store, tmp_path).rows == 0


def test_bad_rows_are_dropped_and_bad_files_reported(tmp_path: Path, store: Store) -> None:
    write(
        tmp_path / "A.csv", "date,close\n2024-01-02,10\nnot-a-date,11\n2024-01-04,abc\n2024-01-05,-1\n2024-01-08,12\n"
    )
    write(tmp_path / "B.csv", "date,close\n")
    summary = load_directory(store, tmp_path)
    close, _ = store.load_prices(["A"])
    assert close["A"].dropna().tolist() == [10.0, 12.0]
    assert "B.csv" in summary.failures


def test_csv_source_fetches_incrementally(tmp_path: Path) -> None:
    write(tmp_path / "A.csv", PRICES)
    result = CsvSource(tmp_path).fetch(["A", "MISSING"], {"A": dt.date(2024, 1, 2)})
    assert list(result.frames["A"]["close"]) == [11.0]
    assert "MISSING" in result.failures
    assert not np.isnan(result.frames["A"]["adj_close"].iloc[0])
