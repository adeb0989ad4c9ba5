"""Shared fixtures: a temporary store and config, and the real offline data when it is present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.config import Config, parse_config
from bot.store import Store

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
