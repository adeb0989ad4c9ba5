"""Counting the store's market-data loads, the cost the check, the digest and the alert charts share."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store.db import Store


def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """From now on, every ``Store.load_prices`` call appends its arguments to the returned list."""
    loads: list[object] = []
    real = Store.load_prices

    def counted(self: Store, *args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "load_prices", counted)
    return loads
