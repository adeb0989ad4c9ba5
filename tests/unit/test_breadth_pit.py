"""Survivorship-free breadth: point-in-time membership against today's member list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.jobs.check import run_check
from bot.market.data import load_market_data
from bot.store.db import Store
from rules import MarketData
from rules.catalog import BreadthParams
from rules.metrics import breadth_frame
from tests.support.factories import make_config

N = 30
SWITCH = 15  # LEFT leaves and JOINED joins on this day
WINDOW = 3


def universe() -> tuple[pd.DataFrame, pd.DataFrame]:
    """UP rises (above its SMA), the others fall (below); GAP has no price on days 20-22."""
    idx = pd.bdate_range("2024-01-01", periods=N, name="date")
    t = np.arange(N, dtype=float)
    close = pd.DataFrame(
        {
            "UP": 100 + t,
            "DOWN": 100 - t,
            "LEFT": 100 + t,  # rising while a member: point-in-time counts it above
            "JOINED": 100 - t,  # falling all along: today's list counts it below, even before it joined
            "GAP": 50 + t,
        },
        index=idx,
    )
    close.loc[idx[20:23], "GAP"] = np.nan
    mask = pd.DataFrame(True, index=idx, columns=close.columns)
    mask.loc[idx[SWITCH:], "LEFT"] = False
    mask.loc[idx[:SWITCH], "JOINED"] = False
    return close, mask


def test_point_in_time_and_current_differ_exactly_where_membership_changed() -> None:
    close, mask = universe()
    current = ("DOWN", "GAP", "JOINED", "UP")  # today's list: LEFT is gone
    data = MarketData(close=close, universes={"sp500": current}, membership={"sp500": mask})
    pit = breadth_frame(data, BreadthParams(window=WINDOW, membership="point_in_time"))
    cur = breadth_frame(data, BreadthParams(window=WINDOW, membership="current"))
    auto = breadth_frame(data, BreadthParams(window=WINDOW))
    pd.testing.assert_frame_equal(auto, pit)  # membership loaded: point in time is the default

    day = close.index
    warm = day[WINDOW - 1 : SWITCH]  # every member has a full window, LEFT still in, JOINED not yet
    # before the switch: point in time counts UP, LEFT, GAP above and DOWN below; today's list swaps LEFT for JOINED
    assert (pit.loc[warm, "above"] == 3).all() and (pit.loc[warm, "counted"] == 4).all()
    assert (cur.loc[warm, "above"] == 2).all() and (cur.loc[warm, "counted"] == 4).all()
    assert pit.loc[warm, "value"].tolist() == [75.0] * len(warm)
    assert cur.loc[warm, "value"].tolist() == [50.0] * len(warm)
    # from the switch on both lists are the same members, so the figures agree exactly
    after = day[SWITCH:]
    pd.testing.assert_frame_equal(pit.loc[after], cur.loc[after])
    # GAP is a member with no price on days 20-22: excluded on those days (and counted as such), back after
    gap_days = day[20:23]
    assert (pit.loc[gap_days, "excluded"] == 1).all()
    assert (pit.loc[gap_days, "counted"] == 3).all()
    assert (pit.loc[day[SWITCH:20], "excluded"] == 0).all() and (pit.loc[day[23:], "excluded"] == 0).all()
    assert (pit["members"] == 4).all()


def test_a_member_without_any_price_is_excluded_not_ignored() -> None:
    close, mask = universe()
    mask["GHOST"] = True  # in the index, but the source has no prices for it at all
    data = MarketData(close=close, membership={"sp500": mask})
    pit = breadth_frame(data, BreadthParams(window=WINDOW, membership="point_in_time"))
    assert (pit["members"] == 5).all()
    assert (pit.loc[close.index[WINDOW - 1 : 20], "excluded"] == 1).all()


def _load(store: Store, close: pd.DataFrame, mask: pd.DataFrame) -> None:
    for sym in close.columns:
        store.upsert_prices(sym, close[[sym]].rename(columns={sym: "close"}).dropna())
    store.set_universe("sp500", [{"symbol": s} for s in ("DOWN", "GAP", "JOINED", "UP")], source="test")
    spans = []
    dates = [d.date().isoformat() for d in mask.index]
    for sym in mask.columns:
        on = np.flatnonzero(mask[sym].to_numpy(dtype=bool))
        end = dates[on[-1] + 1] if on[-1] + 1 < len(dates) else None
        spans.append((str(sym), dates[on[0]], end))
    store.set_membership("sp500", spans)


@pytest.mark.parametrize("mode", ["point_in_time", "current"])
def test_bot_builds_the_same_figures_from_the_store(store: Store, tmp_path: Path, mode: str) -> None:
    close, mask = universe()
    _load(store, close, mask)
    rule = {"name": "b", "metric": "breadth", "window": WINDOW, "membership": mode, "condition": "above",
            "threshold": 60}  # fmt: skip
    cfg = make_config(tmp_path, {"universes": {"sp500": {}}}, rules=[rule])
    data = load_market_data(store, cfg, cfg.rules)
    got = breadth_frame(data, BreadthParams(window=WINDOW, membership=mode))  # type: ignore[arg-type]
    current = ("DOWN", "GAP", "JOINED", "UP")
    want = breadth_frame(
        MarketData(close=close, universes={"sp500": current}, membership={"sp500": mask}),
        BreadthParams(window=WINDOW, membership=mode),  # type: ignore[arg-type]
    )
    pd.testing.assert_frame_equal(got, want, check_freq=False, check_names=False)


def test_bot_counts_members_without_any_price_as_excluded(store: Store, tmp_path: Path) -> None:
    close, mask = universe()
    mask["GHOST"] = True
    _load(store, close, mask)
    rule = {"name": "b", "metric": "breadth", "window": WINDOW, "condition": "above", "threshold": 60}
    cfg = make_config(tmp_path, {"universes": {"sp500": {}}}, rules=[rule])
    data = load_market_data(store, cfg, cfg.rules)
    pit = breadth_frame(data, BreadthParams(window=WINDOW))
    assert (pit["members"] == 5).all()


def test_two_rules_on_one_universe_keep_their_own_membership_mode(store: Store, tmp_path: Path) -> None:
    """A current-list rule beside a point-in-time rule must not change the point-in-time figures."""
    close, mask = universe()
    _load(store, close, mask)
    base = {"metric": "breadth", "window": WINDOW, "condition": "above", "threshold": 60}
    rules = [{"name": "pit", **base, "membership": "point_in_time"}, {"name": "cur", **base, "membership": "current"}]
    for order in (rules, rules[::-1]):
        cfg = make_config(tmp_path, {"universes": {"sp500": {}}}, rules=order)
        data = load_market_data(store, cfg, cfg.rules)
        for mode in ("point_in_time", "current"):
            got = breadth_frame(data, BreadthParams(window=WINDOW, membership=mode))  # type: ignore[arg-type]
            want = breadth_frame(
                MarketData(
                    close=close, universes={"sp500": ("DOWN", "GAP", "JOINED", "UP")}, membership={"sp500": mask}
                ),
                BreadthParams(window=WINDOW, membership=mode),  # type: ignore[arg-type]
            )
            pd.testing.assert_frame_equal(got, want, check_freq=False, check_names=False)


def test_a_partial_fetch_is_not_judged_until_the_rest_arrives(store: Store, tmp_path: Path) -> None:
    """Reviewer's case: 3 of 20 members arrive first, all rising: breadth would read 100% and fire."""
    days = pd.bdate_range("2024-01-01", periods=30, name="date")
    members = [f"M{i:02d}" for i in range(20)]
    for i, sym in enumerate(members):
        trend = 1.0 if i < 10 else -1.0  # half rising, half falling: 50% above
        store.upsert_prices(sym, pd.DataFrame({"close": 100 + trend * np.arange(30.0)}, index=days))
    store.set_universe("u", [{"symbol": s} for s in members], source="test")
    rule = {"name": "b", "metric": "breadth", "universe": "u", "window": 5, "condition": "crosses_above",
            "threshold": 75}  # fmt: skip
    cfg = make_config(tmp_path, {"universes": {"u": {}}}, rules=[rule])
    run_check(store, cfg, as_of=days[-1].date())
    late = pd.DatetimeIndex([pd.Timestamp("2024-02-12")], name="date")
    for sym in members[:3]:  # the first batch: three rising members
        store.upsert_prices(sym, pd.DataFrame({"close": [200.0]}, index=late))
    report = run_check(store, cfg, as_of=late[0].date())
    assert report.alerts == []
    assert store.load_states()["b"].last_day == days[-1].date()  # the partial day was not judged
    for i, sym in enumerate(members[3:], start=3):
        store.upsert_prices(sym, pd.DataFrame({"close": [200.0 if i < 10 else 10.0]}, index=late))
    report = run_check(store, cfg, as_of=late[0].date())
    assert report.alerts == [] and report.results[0].value == pytest.approx(50.0)
    assert store.load_states()["b"].last_day == late[0].date()
