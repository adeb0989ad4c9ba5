"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat.service import Service
from bot.store import Store
from tests.support.tg_helpers import load_prices, tg_config


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """A service on the default test config with generated prices (^RUT, ^GSPC and the universe)."""
    config = tg_config(tmp_path)
    store = Store(config.store_path)
    load_prices(store)
    return Service(config, store)
