"""Fixtures for the real offline data in ../shared/data: tests that use them skip when it is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.ingest.sources.csvdir import load_directory
from bot.store.db import Store
from tests.support.paths import SHARED_DATA


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
