"""What every price source returns, so the fetch job does not care where data came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd


@dataclass
class FetchResult:
    """Per symbol a frame (DatetimeIndex; columns ``close``, ``adj_close``), plus what failed and why."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    calls: int = 0


class Source(Protocol):
    """A source of daily closes. ``since`` maps a symbol to its last stored date (None: all history)."""

    name: str

    def fetch(self, symbols: Sequence[str], since: Mapping[str, dt.date | None]) -> FetchResult: ...
