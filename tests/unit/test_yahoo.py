"""YahooSource against a fake ``yf.download`` that returns exactly what yfinance 1.x returns
(tests/support/fake_yahoo.py)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from tenacity import wait_fixed, wait_none

from bot.errors import SourceUnavailable
from bot.ingest.fetch import fetch_yahoo
from bot.ingest.sources.yahoo import YahooSource, plan_batches, split_download
from bot.store.db import Store
from tests.support.factories import make_config
from tests.support.fake_yahoo import FakeDownload, empty_ohlcv, ohlcv, yf_shape

AFTER_CLOSE = dt.datetime(2024, 7, 26, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
DAYS = pd.bdate_range("2024-07-01", "2024-07-26", name="Date")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDownload:
    fake = FakeDownload({"AAA": ohlcv(DAYS, 10.0), "BRK-B": ohlcv(DAYS, 400.0), "^GSPC": ohlcv(DAYS, 5000.0)})
    monkeypatch.setattr(yf, "download", fake)
    return fake


def source(**kw: Any) -> YahooSource:
    return YahooSource(
        dt.date(2024, 7, 1), batch_size=kw.pop("batch_size", 100), wait=wait_none(), now=lambda: AFTER_CLOSE, **kw
    )


def test_fake_matches_yfinance_shape(fake: FakeDownload) -> None:
    frame = yf.download(["AAA", "^GSPC"], start="2024-07-01")
    assert isinstance(frame.columns, pd.MultiIndex)
    assert list(frame.columns.names) == ["Price", "Ticker"]
    assert frame.index.name == "Date" and frame.index.tz is None
    assert sorted(set(frame.columns.get_level_values(0))) == ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def test_normal_batch_extracts_close_and_adj_close(fake: FakeDownload) -> None:
    result = source().fetch(["AAA", "BRK-B", "^GSPC"], {})
    assert result.failures == {}
    assert result.calls == 1
    aaa = result.frames["AAA"]
    assert list(aaa.columns) == ["close", "adj_close"]
    assert len(aaa) == len(DAYS)
    assert aaa["close"].iloc[0] == 10.0
    assert aaa["adj_close"].iloc[0] == pytest.approx(9.8)
    assert result.frames["BRK-B"]["close"].iloc[-1] == 400.0 + len(DAYS) - 1
    call = fake.calls[0]
    assert call["auto_adjust"] is False and call["group_by"] == "column" and call["actions"] is False
    assert call["progress"] is False


def test_incremental_start_and_only_new_rows(fake: FakeDownload) -> None:
    since = {"AAA": dt.date(2024, 7, 24), "^GSPC": dt.date(2024, 7, 24)}
    result = source().fetch(["AAA", "^GSPC"], since)
    assert fake.calls[0]["start"] == "2024-07-25"
    assert [d.date() for d in result.frames["AAA"].index] == [dt.date(2024, 7, 25), dt.date(2024, 7, 26)]


def test_all_nan_ticker_is_a_failure_not_a_crash(fake: FakeDownload) -> None:
    fake.failing.add("BRK-B")
    result = source().fetch(["AAA", "BRK-B", "NOPE"], {})
    assert set(result.frames) == {"AAA"}
    assert set(result.failures) == {"BRK-B", "NOPE"}
    assert "delisted" in result.failures["NOPE"]


def test_rate_limit_then_success(fake: FakeDownload) -> None:
    fake.raise_first.append(yf.exceptions.YFRateLimitError())
    result = source(retries=2).fetch(["AAA"], {})
    assert result.failures == {}
    assert result.calls == 2
    assert len(result.frames["AAA"]) == len(DAYS)


def test_rate_limit_forever_gives_up_with_reason(fake: FakeDownload) -> None:
    fake.raise_first.extend(yf.exceptions.YFRateLimitError() for _ in range(5))
    result = source(retries=2).fetch(["AAA", "^GSPC"], {})
    assert result.frames == {}
    assert result.calls == 3
    assert "Rate limited" in result.failures["AAA"]


def test_programming_error_is_not_retried(fake: FakeDownload) -> None:
    fake.raise_first.append(KeyError("boom"))
    result = source(retries=3).fetch(["AAA"], {})
    assert result.calls == 1
    assert result.failures["AAA"].startswith("KeyError")


def test_empty_frame_means_every_symbol_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yf, "download", lambda tickers, **kw: yf_shape({t: empty_ohlcv() for t in tickers}))
    result = source().fetch(["AAA", "BBB"], {})
    assert result.frames == {}
    assert set(result.failures) == {"AAA", "BBB"}


def test_empty_incremental_answer_is_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yf, "download", lambda tickers, **kw: yf_shape({t: empty_ohlcv() for t in tickers}))
    result = source().fetch(["AAA"], {"AAA": dt.date(2024, 7, 25)})
    assert result.failures == {}
    assert result.frames["AAA"].empty


def test_duplicate_dates_and_nan_rows_are_dropped() -> None:
    days = pd.DatetimeIndex(["2024-07-22", "2024-07-23", "2024-07-23", "2024-07-24"], name="Date")
    df = ohlcv(days, 10.0)
    df.loc[df.index[3], ["Close", "Adj Close"]] = np.nan
    frame = pd.concat([df], axis=1, keys=["AAA"], names=["Ticker", "Price"])
    assert isinstance(frame.columns, pd.MultiIndex)
    frame.columns = frame.columns.swaplevel(0, 1)
    frames, failures = split_download(frame.sort_index(level=0, axis=1), ["AAA"])
    assert failures == {}
    out = frames["AAA"]
    assert [d.date() for d in out.index] == [dt.date(2024, 7, 22), dt.date(2024, 7, 23)]
    assert out["close"].iloc[-1] == 12.0  # the last of the duplicates wins


def test_todays_unsettled_row_is_dropped(fake: FakeDownload) -> None:
    midday = dt.datetime(2024, 7, 26, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    yahoo = YahooSource(dt.date(2024, 7, 1), wait=wait_none(), now=lambda: midday)
    result = yahoo.fetch(["AAA"], {"AAA": dt.date(2024, 7, 23)})
    assert result.frames["AAA"].index.max().date() == dt.date(2024, 7, 25)


def test_503_tickers_daily_update_is_six_calls(fake: FakeDownload) -> None:
    symbols = [f"S{i:03d}" for i in range(503)]
    for s in symbols:
        fake.prices[s] = ohlcv(DAYS, 50.0)
    since: dict[str, dt.date | None] = dict.fromkeys(symbols, dt.date(2024, 7, 25))
    since["S007"] = dt.date(2024, 7, 19)  # a straggler shares the batch, no extra call
    result = source().fetch(symbols, since)
    assert len(fake.calls) == result.calls <= 6
    assert all(len(c["tickers"]) <= 100 for c in fake.calls)
    assert len(result.frames) == 503 and result.failures == {}
    assert len(result.frames["S007"]) == 5


def test_plan_keeps_far_apart_starts_separate() -> None:
    since: dict[str, dt.date | None] = {"OLD": None, "NEW": dt.date(2024, 7, 25)}
    batches = plan_batches(["OLD", "NEW"], since, dt.date(2000, 1, 1), 100)
    assert [(b.symbols, b.start) for b in batches] == [
        (("OLD",), dt.date(2000, 1, 1)),
        (("NEW",), dt.date(2024, 7, 26)),
    ]


def test_fetch_yahoo_stores_and_reports(fake: FakeDownload, tmp_path: Path, store: Store) -> None:
    fake.failing.add("BRK-B")
    config = make_config(
        tmp_path, {"data": {"symbols": ["^GSPC"]}, "universes": {"sp500": {"members": ["AAA", "BRK.B"]}}}
    )
    yahoo = source()
    report = fetch_yahoo(store, config, source=yahoo)
    assert report.symbols == 2 and report.rows == 2 * len(DAYS)
    assert set(report.failures) == {"BRK-B"}
    assert report.summary().startswith(f"Fetched 2 symbols in 1 call, {2 * len(DAYS)} rows added, 1 failure")
    assert store.universe("sp500") == ("AAA", "BRK-B")
    status = {r["source"]: r for r in store.source_status()}
    assert status["yahoo"]["last_data_date"] == "2024-07-26"
    again = fetch_yahoo(store, config, source=source())
    assert again.rows == 0


def test_fetch_yahoo_outage_raises_source_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Store
) -> None:
    def down(tickers: list[str], **kw: Any) -> pd.DataFrame:
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(yf, "download", down)
    config = make_config(tmp_path, {"data": {"symbols": ["^GSPC"]}, "universes": {}})
    with pytest.raises(SourceUnavailable) as err:
        fetch_yahoo(store, config, source=source(retries=1))
    assert err.value.source == "yahoo" and "network unreachable" in err.value.reason
    status = {r["source"]: r for r in store.source_status()}
    assert status["yahoo"]["last_error"] == "ConnectionError: network unreachable"


def test_stragglers_share_one_call_and_a_new_symbol_keeps_its_own() -> None:
    """The shared data's shape: 464 current members, 39 whose history ended months earlier, one new symbol."""
    current = {f"C{i:03d}": dt.date(2025, 12, 31) for i in range(464)}
    stale = {f"S{i:02d}": dt.date(2024, 9, 12) + dt.timedelta(days=6 * i) for i in range(39)}
    since: dict[str, dt.date | None] = {**current, **stale, "NEW": None}
    batches = plan_batches(list(since), since, dt.date(2000, 1, 1), 100)
    assert len(batches) == 7  # NEW from 2000; the 39 stragglers together; 464 current in 5
    assert batches[0].symbols == ("NEW",) and batches[0].start == dt.date(2000, 1, 1)
    assert set(batches[1].symbols) == set(stale) and batches[1].start == dt.date(2024, 9, 13)
    assert all(b.start == dt.date(2026, 1, 1) for b in batches[2:])
    assert sum(len(b.symbols) for b in batches) == 504


def test_a_shutdown_request_ends_backoff_and_skips_remaining_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Event()
    calls: list[list[str]] = []

    def download(tickers: list[str], **kw: Any) -> pd.DataFrame:
        calls.append(list(tickers))
        threading.Timer(0.1, cancel.set).start()  # shutdown arrives while we back off
        raise yf.exceptions.YFRateLimitError()

    monkeypatch.setattr(yf, "download", download)
    source = YahooSource(dt.date(2024, 1, 1), batch_size=1, retries=5, wait=wait_fixed(60), cancel=cancel)
    t0 = time.monotonic()
    result = source.fetch(["A", "B"], {"A": None, "B": None})
    assert time.monotonic() - t0 < 10  # not 5 × 60 s of backoff
    assert calls == [["A"]]
    assert result.failures["B"] == "stopped: the bot is shutting down"
