"""Universe refresh: URL (httpx.MockTransport) or file, config override, a failure keeps the cache."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.ingest.universe import parse_members, refresh_universes
from bot.store.db import Store
from tests.support.factories import make_config

URL = "https://example.test/constituents.csv"
MEMBERS = "Symbol,Security,GICS Sector\nAAPL,Apple,Information Technology\nBRK.B,Berkshire,Financials\n,,\n"


def client(status: int = 200) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(status, text=MEMBERS)))


def test_parse_members_maps_dots_to_dashes() -> None:
    rows = parse_members(MEMBERS)
    assert [r["symbol"] for r in rows] == ["AAPL", "BRK-B"]
    assert rows[1]["name"] == "Berkshire" and rows[1]["sector"] == "Financials"


def test_parse_members_needs_a_symbol_column() -> None:
    with pytest.raises(ValueError, match="no Symbol column"):
        parse_members("Name\nApple\n")


def test_refresh_from_url_then_failure_keeps_last_list(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"universes": {"sp500": {"source": URL}}})
    [ok] = refresh_universes(store, config, client())
    assert ok.error is None and ok.members == 2
    assert store.universe("sp500") == ("AAPL", "BRK-B")
    [failed] = refresh_universes(store, config, client(500))
    assert failed.error == "HTTP 500 from example.test" and failed.members == 2
    assert store.universe("sp500") == ("AAPL", "BRK-B")


def test_refresh_from_local_file_relative_to_config(tmp_path: Path, store: Store) -> None:
    (tmp_path / "m.csv").write_text("symbol\nmsft\n")
    config = make_config(tmp_path, {"universes": {"mine": {"source": "m.csv"}}})
    [r] = refresh_universes(store, config)
    assert r.error is None and store.universe("mine") == ("MSFT",)


def test_config_members_override_source(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"universes": {"sp500": {"source": URL, "members": ["XOM", "BF.B"]}}})
    [r] = refresh_universes(store, config, client(500))
    assert r.error is None and r.source == "config.toml"
    assert store.universe("sp500") == ("BF-B", "XOM")


def test_missing_file_is_reported(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"universes": {"x": {"source": "nope.csv"}}})
    [r] = refresh_universes(store, config)
    assert r.error == "no such file nope.csv" and r.members == 0
