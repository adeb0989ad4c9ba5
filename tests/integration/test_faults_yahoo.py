"""yfinance misbehaving during the daily job: the run completes, warns naming the symbols, and rules
on unaffected metrics (the ^RUT/^GSPC ratio) still fire and are queued for delivery.

The fake ``yf.download`` is tests/support/fake_yahoo.py's (yfinance 1.x's exact frame shape); each symbol
gets its own call (``batch_size = 1``) so a fault hits only the symbol it is scripted for. The job
is the scheduler's real daily slot (fetch, then check) on a fake clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from tenacity import wait_none

from bot.config.reload import ConfigHolder
from bot.config.settings import Config
from bot.ingest.fetch import fetch_yahoo
from bot.ingest.sources.yahoo import YahooSource
from bot.jobs.scheduler import BotScheduler
from bot.store import chats
from bot.store.db import Store
from tests.support.fake_yahoo import FakeDownload, empty_ohlcv, ohlcv, yf_shape
from tests.support.faultkit import DAY, frame

AFTER_CLOSE = dt.datetime.combine(DAY, dt.time(18, 0), tzinfo=dt.timezone(dt.timedelta(hours=-4)))
YESTERDAY = DAY - dt.timedelta(days=1)
CHAT = 111
HEALTHY = ["AAA", "BBB"]
RULES = """
[[rules]]
name = "ratio-above-0.4"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.4

[[rules]]
name = "breadth-above-50"
metric = "breadth"
universe = "sp500"
window = 20
condition = "above"
threshold = 50
"""


def config_for(tmp_path: Path, members: list[str]) -> Path:
    path = tmp_path / "config.toml"
    listed = ", ".join(f'"{m}"' for m in members)
    path.write_text(
        f"""
[store]
path = "store.sqlite"

[data]
symbols = ["^GSPC", "^RUT"]
history_start = "2023-01-01"
batch_size = 1
retries = 2

[universes.sp500]
members = [{listed}]
{RULES}
""",
        encoding="utf-8",
    )
    return path


def seed(store: Store, symbols: list[str], level: float = 100.0) -> None:
    """History up to yesterday: indices flat (ratio 0.38), members rising slowly (above their SMA)."""
    store.upsert_prices("^GSPC", frame(np.full(300, 5000.0), YESTERDAY))
    store.upsert_prices("^RUT", frame(np.full(300, 1900.0), YESTERDAY))
    for s in symbols:
        store.upsert_prices(s, frame(level + np.arange(300, dtype=float) * 0.1, YESTERDAY))
    chats.subscribe(store, CHAT)


def today(close: float) -> pd.DataFrame:
    """One yfinance OHLCV row for DAY at ``close``."""
    df = ohlcv(pd.DatetimeIndex([pd.Timestamp(DAY)], name="Date"), close)
    df["Adj Close"] = df["Close"]
    return df


def yahoo_today(extra: dict[str, pd.DataFrame] | None = None) -> FakeDownload:
    """Yahoo's answer for DAY: ^RUT jumps to 2100 (ratio 0.42, crossing 0.4); members keep rising."""
    prices = {"^GSPC": today(5000.0), "^RUT": today(2100.0)}
    prices.update({s: today(200.0) for s in HEALTHY})
    prices.update(extra or {})
    return FakeDownload(prices)


def daily_job(config_path: Path) -> tuple[list[str], Config]:
    holder = ConfigHolder.load(config_path)
    config = holder.config

    def fetch(store: Store, cfg: Config) -> object:
        data = cfg.settings.data
        source = YahooSource(
            data.history_start, data.batch_size, data.retries, wait=wait_none(), now=lambda: AFTER_CLOSE
        )
        return fetch_yahoo(store, cfg, source=source)

    scheduler = BotScheduler(holder, now=lambda: AFTER_CLOSE, fetch_prices=fetch)
    return scheduler.tick(), config


def assert_run_completed(store: Store, lines: list[str], faulty: list[str], caplog: pytest.LogCaptureFixture) -> None:
    assert len(lines) == 1 and lines[0].startswith(f"daily {DAY}: Fetched"), lines
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok", run
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name == "bot.ingest.fetch"]
    for symbol in faulty:
        assert symbol in lines[0], lines[0]
        assert any(symbol in w for w in warnings), warnings
    for symbol in ["^GSPC", "^RUT", *HEALTHY]:
        assert symbol not in lines[0].split("; checked")[0], lines[0]
    # The ratio rule fired on DAY and its alert is queued; the prices of healthy symbols were stored.
    keys = [k for k, _, _ in _outbox(store)]
    assert f"ratio-above-0.4|{DAY}|firing" in keys
    assert store.last_dates(["^GSPC", "^RUT", *HEALTHY]) == dict.fromkeys(["^GSPC", "^RUT", *HEALTHY], DAY)


def _outbox(store: Store) -> list[tuple[str, int, str]]:
    rows = store.db.execute("SELECT alert_key, chat_id, status FROM outbox ORDER BY id").fetchall()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


@pytest.fixture
def caplog_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


def run_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: Any, faulty: list[str], seeded: list[str]
) -> tuple[Store, list[str]]:
    config_path = config_for(tmp_path, [*HEALTHY, *faulty])
    store = Store(tmp_path / "store.sqlite")
    seed(store, [*HEALTHY, *seeded])
    monkeypatch.setattr(yf, "download", fake)
    lines, _ = daily_job(config_path)
    return store, lines


def test_empty_frame_for_a_new_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    fake = yahoo_today()

    def download(tickers: list[str], **kw: Any) -> pd.DataFrame:
        if "EMPTY" in tickers:
            fake.calls.append({"tickers": list(tickers), **kw})
            return pd.DataFrame()  # what yfinance returns when nothing at all came back
        return fake(tickers, **kw)

    store, lines = run_scenario(tmp_path, monkeypatch, download, ["EMPTY"], [])
    try:
        assert_run_completed(store, lines, ["EMPTY"], caplog_warnings)
        assert "EMPTY" not in store.last_dates()
    finally:
        store.close()


def test_all_nan_tickers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    fake = yahoo_today({"GONE": today(10.0), "DELISTED": today(10.0)})
    fake.failing |= {"GONE", "DELISTED"}  # all-NaN columns plus yfinance's logged error
    store, lines = run_scenario(tmp_path, monkeypatch, fake, ["GONE", "DELISTED"], [])
    try:
        assert_run_completed(store, lines, ["DELISTED", "GONE"], caplog_warnings)
        assert "possibly delisted" in " ".join(r.getMessage() for r in caplog_warnings.records)
    finally:
        store.close()


def test_rate_limit_error_on_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    fake = yahoo_today({"RATE": today(10.0)})

    def download(tickers: list[str], **kw: Any) -> pd.DataFrame:
        if "RATE" in tickers:
            fake.calls.append({"tickers": list(tickers), **kw})
            raise yf.exceptions.YFRateLimitError()
        return fake(tickers, **kw)

    store, lines = run_scenario(tmp_path, monkeypatch, download, ["RATE"], ["RATE"])
    try:
        assert_run_completed(store, lines, ["RATE"], caplog_warnings)
        assert sum(1 for c in fake.calls if c["tickers"] == ["RATE"]) == 3  # retried, then given up
        assert store.last_dates(["RATE"]) == {"RATE": YESTERDAY}
    finally:
        store.close()


def test_rate_limit_logged_per_ticker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    """yfinance 1.x catches the rate limit per ticker: an all-NaN column and a logged YFRateLimitError."""
    fake = yahoo_today()

    def download(tickers: list[str], **kw: Any) -> pd.DataFrame:
        if "SLOW" in tickers:
            fake.calls.append({"tickers": list(tickers), **kw})
            logging.getLogger("yfinance").error(
                "['SLOW']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
            )
            return yf_shape({"SLOW": empty_ohlcv()})
        return fake(tickers, **kw)

    store, lines = run_scenario(tmp_path, monkeypatch, download, ["SLOW"], ["SLOW"])
    try:
        assert_run_completed(store, lines, ["SLOW"], caplog_warnings)
        assert "Rate limited" in " ".join(
            r.getMessage() for r in caplog_warnings.records if r.name == "bot.ingest.fetch"
        )
    finally:
        store.close()


def test_split_like_jump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    """SPLT closed near 130 yesterday; Yahoo's new row says 13 (a 10:1 split it has not adjusted yet)."""
    fake = yahoo_today({"SPLT": today(13.0)})
    store, lines = run_scenario(tmp_path, monkeypatch, fake, ["SPLT"], ["SPLT"])
    try:
        assert_run_completed(store, lines, ["SPLT"], caplog_warnings)
        assert "split-like jump in SPLT" in lines[0]
        assert any("×0.10" in r.getMessage() for r in caplog_warnings.records)
        assert store.last_dates(["SPLT"]) == {"SPLT": DAY}  # stored anyway: a crash looks the same
    finally:
        store.close()


def test_duplicate_dates_keep_the_last_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    twice = pd.concat([today(150.0), today(151.0)])
    fake = yahoo_today({"DUPE": twice})
    store, lines = run_scenario(tmp_path, monkeypatch, fake, ["DUPE"], ["DUPE"])
    try:
        assert_run_completed(store, lines, [], caplog_warnings)
        close, _ = store.load_prices(["DUPE"], start=DAY, end=DAY)
        assert close["DUPE"].tolist() == [151.0]
    finally:
        store.close()


def test_duplicate_dates_are_named_in_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    fake = yahoo_today({"DUPE": pd.concat([today(150.0), today(151.0)])})
    store, lines = run_scenario(tmp_path, monkeypatch, fake, ["DUPE"], ["DUPE"])
    try:
        assert_run_completed(store, lines, ["DUPE"], caplog_warnings)
    finally:
        store.close()


def test_every_fault_at_once_still_fires_the_ratio_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    fake = yahoo_today({"GONE": today(1.0), "SPLT": today(13.0), "DUPE": pd.concat([today(150.0), today(151.0)])})
    fake.failing.add("GONE")

    def download(tickers: list[str], **kw: Any) -> pd.DataFrame:
        if "EMPTY" in tickers:
            return pd.DataFrame()
        if "RATE" in tickers:
            raise yf.exceptions.YFRateLimitError()
        return fake(tickers, **kw)

    faulty = ["EMPTY", "GONE", "RATE", "SPLT"]
    store, lines = run_scenario(tmp_path, monkeypatch, download, [*faulty, "DUPE"], ["RATE", "SPLT", "DUPE"])
    try:
        assert_run_completed(store, lines, faulty, caplog_warnings)
        assert "4 failures" not in lines[0] and "3 failures (EMPTY, GONE, RATE)" in lines[0]
    finally:
        store.close()
