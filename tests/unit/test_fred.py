"""FredSource and fetch_fred through httpx.MockTransport: no network, the real httpx client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tenacity import wait_none

from bot.errors import SourceUnavailable
from bot.ingest.fetch import fetch_fred
from bot.ingest.sources.csvdir import parse_fred_csv
from bot.ingest.sources.fred import FredSource
from bot.store.db import Store
from tests.support.factories import make_config

CSV = {
    "CPIAUCSL": "observation_date,CPIAUCSL\n2024-04-01,313.016\n2024-05-01,313.140\n2024-06-01,.\n",
    "CPILFESL": "observation_date,CPILFESL\n2024-04-01,318.1\n2024-05-01,318.7\n2024-06-01,\n",
}


def transport(fail_first: int = 0, status: int = 503) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if len(seen) <= fail_first:
            return httpx.Response(status, text="busy")
        return httpx.Response(200, text=CSV[request.url.params["id"]])

    return httpx.MockTransport(handler), seen


def fred(t: httpx.MockTransport, retries: int = 2) -> FredSource:
    return FredSource(client=httpx.Client(transport=t), retries=retries, wait=wait_none())


def test_parse_fred_csv_missing_values() -> None:
    assert parse_fred_csv(CSV["CPIAUCSL"]) == [("2024-04", 313.016), ("2024-05", 313.14), ("2024-06", None)]


@pytest.mark.parametrize(
    "text", ["date,value\n2024-01-01,1\n", "observation_date,X\n2024-13-01,1\n", "observation_date,X\n2024-01-01,abc\n"]
)
def test_parse_fred_csv_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_fred_csv(text)


def test_fetch_stores_both_series(store: Store) -> None:
    t, seen = transport()
    result = fred(t).fetch_into(store)
    assert result.failures == {}
    assert seen[0] == "https://fred.stlouisfed.org/graph/fredgraph.csv?id=CPIAUCSL"
    assert result.last_month == {"CPIAUCSL": "2024-05", "CPILFESL": "2024-05"}
    rows = store.db.execute(
        "SELECT series, month, value, vintage FROM cpi_observations ORDER BY series, month"
    ).fetchall()
    assert ("CPIAUCSL", "2024-05", 313.14, "latest") in rows
    assert ("CPILFESL", "2024-06", None, "latest") in rows
    again = fred(transport()[0]).fetch_into(store)
    assert again.changed == {"CPIAUCSL": 0, "CPILFESL": 0}


def test_first_seen_kept_when_a_month_reappears(store: Store) -> None:
    fred(transport()[0]).fetch_into(store)
    store.db.execute("UPDATE cpi_observations SET first_seen = '2024-06-12T12:30:00+00:00'")
    fred(transport()[0]).fetch_into(store)
    first = {r[0] for r in store.db.execute("SELECT first_seen FROM cpi_observations").fetchall()}
    assert first == {"2024-06-12T12:30:00+00:00"}


def test_retries_on_503_then_succeeds(store: Store) -> None:
    t, seen = transport(fail_first=2)
    result = fred(t, retries=2).fetch_into(store, ["CPIAUCSL"])
    assert result.failures == {} and result.calls == 3 and len(seen) == 3


def test_404_is_not_retried(store: Store) -> None:
    t, seen = transport(fail_first=5, status=404)
    result = fred(t, retries=3).fetch_into(store, ["CPIAUCSL"])
    assert len(seen) == 1
    assert result.failures == {"CPIAUCSL": "HTTP 404 from fred.stlouisfed.org"}


def test_fetch_fred_outage_raises_and_marks_source(tmp_path: Path, store: Store) -> None:
    t, _ = transport(fail_first=99)
    config = make_config(tmp_path)
    with pytest.raises(SourceUnavailable) as err:
        fetch_fred(store, config, source=fred(t, retries=1))
    assert "HTTP 503" in err.value.reason and err.value.retry_at is None  # the scheduler says when it retries
    status = {r["source"]: r for r in store.source_status()}
    assert status["fred"]["last_error"].startswith("HTTP 503")


def test_fetch_fred_loads_user_release_dates(tmp_path: Path, store: Store) -> None:
    (tmp_path / "rel.csv").write_text("reference_month,release_date,release_time_et\n2024-06,2024-07-11,08:30\n")
    config = make_config(tmp_path, {"cpi": {"release_dates": "rel.csv"}})
    report = fetch_fred(store, config, source=fred(transport()[0]))
    assert "1 CPI release dates" in report.summary()
    assert report.summary().startswith("Fetched 2 series in 2 calls, 6 rows added, 0 failures")
    assert store.db.execute("SELECT release_date FROM cpi_releases").fetchall() == [("2024-07-11",)]
