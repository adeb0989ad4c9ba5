"""Network down is said so, at once: Yahoo's and FRED's DNS failures and refused connections are not retried,
and are reported in one short line with the symbols counted, not listed."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yfinance as yf
from tenacity import wait_none

from bot.config import load_config
from bot.errors import SourceUnavailable
from bot.ingest.fetch import fetch_fred, fetch_yahoo
from bot.ingest.sources.fred import FredSource
from bot.ingest.sources.yahoo import YahooSource
from bot.store import Store
from tests.support.fake_yahoo import empty_ohlcv, yf_shape

MEMBERS = [f"M{i:03d}" for i in range(250)]
AFTER_CLOSE = dt.datetime(2024, 7, 26, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
DNS = (
    "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com (Domain name not found). "
    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
)
REFUSED = (
    "Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com port 443 after 3 ms: "
    "Couldn't connect to server. See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
)


class OfflineDownload:
    """``yf.download`` as yfinance 1.x behaves with the network down (seen on a machine without internet): it
    logs the curl error per ticker, then reports every ticker as possibly delisted, and returns no rows."""

    def __init__(self, curl_error: str) -> None:
        self.curl_error = curl_error
        self.calls = 0

    def __call__(self, tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        self.calls += 1
        log = logging.getLogger("yfinance")
        log.warning("Cookie/crumb fetch failed (DNSError), continuing without crumb")
        for t in tickers:
            log.error("Failed to get ticker '%s' reason: %s", t, self.curl_error)
        log.error("\n%d Failed downloads:", len(tickers))
        log.error(f"{sorted(tickers)}: YFTzMissingError('possibly delisted; no timezone found')")
        return yf_shape({t: empty_ohlcv() for t in tickers})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n[data]\nsymbols = ["^GSPC", "^RUT"]\nbatch_size = 100\n'
        f"retries = 4\n\n[universes.sp500]\nmembers = {MEMBERS!r}\n".replace("'", '"')
    )
    return path


@pytest.mark.parametrize(
    ("curl_error", "cause"),
    [
        (DNS, "Could not resolve host: query2.finance.yahoo.com"),
        (REFUSED, "Failed to connect to query2.finance.yahoo.com port 443"),
    ],
    ids=["dns", "refused"],
)
def test_yahoo_network_down_fails_fast_in_one_short_line(
    config: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, curl_error: str, cause: str
) -> None:
    fake = OfflineDownload(curl_error)
    monkeypatch.setattr(yf, "download", fake)
    cfg = load_config(config)
    store = Store(cfg.store_path)
    source = YahooSource(batch_size=100, retries=4, wait=wait_none(), now=lambda: AFTER_CLOSE)
    caplog.set_level(logging.WARNING)
    with pytest.raises(SourceUnavailable) as err:
        fetch_yahoo(store, cfg, source=source)
    store.close()
    assert str(err.value) == f"yahoo unavailable: network unreachable ({cause}); none of 252 symbols fetched"
    assert fake.calls == 1  # no retry, no second batch: nothing can come back while the network is down
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert ours and all(len(line) <= 300 for line in ours), ours
    assert "delisted" not in str(err.value)


def test_fred_refused_and_unresolvable_fail_fast(config: Path) -> None:
    cfg = load_config(config)
    store = Store(cfg.store_path)
    try:
        for url, cause in (
            ("http://127.0.0.1:9/{series}.csv", "connection refused by 127.0.0.1:9"),
            ("http://fred.invalid/{series}.csv", "cannot resolve fred.invalid"),
        ):
            calls = 0

            def count(request: httpx.Request) -> None:
                nonlocal calls
                calls += 1

            client = httpx.Client(timeout=5, event_hooks={"request": [count]})
            with pytest.raises(SourceUnavailable) as err:
                fetch_fred(store, cfg, source=FredSource(url, retries=4, client=client, wait=wait_none()))
            client.close()
            assert str(err.value) == f"fred unavailable: network unreachable ({cause})"
            assert calls == 1  # one attempt for the first series, none for the second
    finally:
        store.close()
