"""Shared fixtures: a temporary store and config, and the real offline data when it is present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.config.settings import Config, parse_config
from bot.store.db import Store

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test when this checkout has none."""
    if not (SHARED_DATA / "indices").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "test.sqlite")
    yield s
    s.close()


def make_config(
    tmp_path: Path, extra: dict[str, object] | None = None, rules: list[dict[str, object]] | None = None
) -> Config:
    """A config whose store lives in tmp_path; ``rules`` replaces the default rules."""
    data: dict[str, object] = {"store": {"path": str(tmp_path / "test.sqlite")}}
    if extra:
        data.update(extra)
    if rules is not None:
        data["rules"] = rules
    return parse_config(data, path=tmp_path / "config.toml")


def trading_days(start: str, n: int) -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n, name="date")


def price_frame(values: list[float] | np.ndarray, start: str = "2024-01-01") -> pd.DataFrame:
    """A one-symbol frame as sources return it: DatetimeIndex, close and adj_close columns."""
    arr = np.asarray(values, dtype=float)
    idx = trading_days(start, len(arr))
    return pd.DataFrame({"close": arr, "adj_close": arr}, index=idx)


@pytest.fixture(scope="session")
def real_store_path(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store loaded once per test session with all of ../shared/data (about 10 s). Copy it before writing."""
    from bot.ingest.sources.csvdir import load_directory

    path = tmp_path_factory.mktemp("real") / "real.sqlite"
    s = Store(path)
    load_directory(s, shared_data)
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return path


@pytest.fixture
def real_store_copy(real_store_path: Path, tmp_path: Path) -> Path:
    """A private copy of the real-data store, safe to write to."""
    import shutil

    dest = tmp_path / "real.sqlite"
    shutil.copy(real_store_path, dest)
    return dest
