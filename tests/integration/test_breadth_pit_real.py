"""Survivorship-free breadth on the real data in ../shared/data (skipped when absent): the README's figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bot.market.data import load_market_data
from bot.store.db import Store
from rules.catalog import BreadthParams
from rules.metrics import breadth_frame
from tests.support.factories import make_config

README_DAY = "2015-06-30"


def independent_breadth(close: pd.DataFrame, members: list[str], day: str, window: int = 200) -> tuple[int, int]:
    """(above, counted) by plain pandas: each member's close that day against the mean of its own last closes."""
    above = counted = 0
    for sym in members:
        if sym not in close.columns:
            continue
        s = close[sym].loc[:day].dropna()
        if len(s) < window or s.index[-1] != pd.Timestamp(day):
            continue
        counted += 1
        above += int(s.iloc[-1] > s.iloc[-window:].mean())
    return above, counted


def test_real_data_both_settings_for_one_day(real_store_copy: Path, tmp_path: Path) -> None:
    """The README's survivorship figures (printed with -s)."""
    rules: list[dict[str, object]] = [
        {"name": m, "metric": "breadth", "membership": m, "condition": "above", "threshold": 75}
        for m in ("point_in_time", "current")
    ]
    cfg = make_config(tmp_path, {"store": {"path": str(real_store_copy)}}, rules=rules)
    store = Store(real_store_copy)
    try:
        pit_data = load_market_data(store, cfg, cfg.rules[:1])
        cur_data = load_market_data(store, cfg, cfg.rules[1:])
        spans = store.membership_spans("sp500")
        today = list(store.universe("sp500"))
    finally:
        store.close()
    day = pd.Timestamp(README_DAY)
    pit = breadth_frame(pit_data, BreadthParams(membership="point_in_time")).loc[day].to_dict()
    cur = breadth_frame(cur_data, BreadthParams(membership="current")).loc[day].to_dict()
    in_index = [s for s, a, b in spans if a <= README_DAY and (b is None or b > README_DAY)]
    a, n = independent_breadth(pit_data.close, in_index, README_DAY)
    assert (pit["above"], pit["counted"]) == (a, n)
    a, n = independent_breadth(cur_data.close, today, README_DAY)
    assert (cur["above"], cur["counted"]) == (a, n)
    assert cur["members"] == len(today)
    assert pit["value"] != cur["value"]
    print(
        f"\n{README_DAY}: point_in_time {pit['value']:.1f}% ({int(pit['above'])}/{int(pit['counted'])}, "
        f"{len(in_index)} members that day); current {cur['value']:.1f}% ({int(cur['above'])}/{int(cur['counted'])}, "
        f"{int(cur['excluded'])} excluded)"
    )
