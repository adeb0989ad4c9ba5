"""Fixtures: the real offline data in ../shared/data (tests that use it skip when it is absent), and the fake
Bot API server with a bot service on it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.service import Service
from bot.ingest.sources.csvdir import load_directory
from bot.store.db import Store
from tests.support.fake_telegram import FakeTelegram
from tests.support.paths import REPO, SHARED_DATA
from tests.support.tg_helpers import load_prices, tg_config


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test when this checkout has none."""
    if not (SHARED_DATA / "indices").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_store_path(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store loaded once per test session with all of ../shared/data (about 10 s). Copy it before writing."""
    path = tmp_path_factory.mktemp("real") / "real.sqlite"
    s = Store(path)
    load_directory(s, shared_data)
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return path


@pytest.fixture
def real_store_copy(real_store_path: Path, tmp_path: Path) -> Path:
    """A private copy of the real-data store, safe to write to."""
    dest = tmp_path / "real.sqlite"
    shutil.copy(real_store_path, dest)
    return dest


@pytest.fixture
def real_config(real_store_copy: Path, tmp_path: Path) -> Path:
    """The shipped config.toml on a private copy of the real-data store."""
    cfg = tmp_path / "config.toml"
    text = (
        (REPO / "config.toml").read_text().replace('path = "data/rotation-bot.sqlite"', f'path = "{real_store_copy}"')
    )
    cfg.write_text(text)
    return cfg


@pytest.fixture
def now() -> dt.datetime:
    """An hour past the real clock when the test starts, so the rows it queues (due at the real now) are due.

    Taken per test, never at import: a suite that runs long on a busy machine must not find it in the past.
    """
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    """A fake Bot API server on 127.0.0.1 for the real PTB Application."""
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def service(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    """The bot's service on the fake server, with the ratio's prices and the test rules."""
    config = tg_config(tmp_path, tg.base_url)
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=tmp_path / "config.toml")
    store.close()
