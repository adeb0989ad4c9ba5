"""rules/track.py on generated prices, checked against an independent pandas computation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from rules import Alert, MarketData, load_rules
from rules.track import (
    TrackRecord,
    track_basis,
    track_horizons,
    track_record,
    track_symbols,
)
from rules.trackline import summary_line
from tests.support import factories

HORIZONS = (21, 63, 126)


@pytest.fixture
def market() -> MarketData:
    """900 business days from 2015-01-01 of two random walks; adj_close is 0.9 × close."""
    rng = np.random.default_rng(7)
    n = 900
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    b = 50 * np.exp(np.cumsum(rng.normal(0, 0.010, n)))
    return factories.market({"AAA": a, "BBB": b}, start="2015-01-01", adj_factor=0.9)


def forward_points(close: pd.DataFrame, sym: str, bench: str | None, h: int) -> pd.Series:
    """Independent: the h-day forward % change (minus the benchmark's), NaN where not yet known."""
    fwd = (close[sym].shift(-h) / close[sym] - 1) * 100
    if bench:
        fwd = fwd - (close[bench].shift(-h) / close[bench] - 1) * 100
    return fwd


def test_relative_moves_match_pandas(market: MarketData) -> None:
    idx = market.close.index
    days = [idx[10].date(), idx[300].date(), idx[700].date(), idx[850].date(), idx[-1].date()]
    rec = track_record(days, market, ("AAA", "BBB"), HORIZONS)
    assert [f.date for f in rec.firings] == days
    assert rec.as_of == idx[-1].date()
    assert rec.unit == "pt"
    for j, h in enumerate(HORIZONS):
        expected = forward_points(market.close, "AAA", "BBB", h)
        for f in rec.firings:
            want = expected.loc[pd.Timestamp(f.date)]
            if np.isnan(want):
                assert f.moves[j] is None
            else:
                assert f.moves[j] == pytest.approx(want, abs=1e-9)
    # 850 + 63 and 850 + 126 run past the end; the last day is open at every horizon.
    assert rec.firings[3].moves[0] is not None and rec.firings[3].moves[1] is None
    assert rec.firings[4].moves == (None, None, None)
    assert rec.firings[4].open and not rec.firings[0].open


def test_summaries_count_only_complete_firings(market: MarketData) -> None:
    idx = market.close.index
    days = [idx[i].date() for i in range(5, 895, 37)]
    rec = track_record(days, market, ("AAA", "BBB"), HORIZONS)
    for j, h in enumerate(HORIZONS):
        fwd = forward_points(market.close, "AAA", "BBB", h).loc[[pd.Timestamp(d) for d in days]]
        done = fwd.dropna()
        s = rec.summary(h)
        assert s.n == len(done)
        assert s.open == len(days) - len(done)
        assert s.positive == int((done > 0).sum())
        assert s.median == pytest.approx(float(done.median()))
        assert s.best == pytest.approx(float(done.max()))
        assert s.worst == pytest.approx(float(done.min()))
        assert [f.moves[j] is None for f in rec.firings] == list(fwd.isna())


def test_single_symbol_is_plain_percent_change_on_chosen_basis(market: MarketData) -> None:
    idx = market.close.index
    day = idx[100].date()
    rec = track_record([day], market, ("AAA", None), (21,), basis="adj_close")
    adj = market.adj_close
    assert adj is not None
    want = (adj["AAA"].iloc[121] / adj["AAA"].iloc[100] - 1) * 100
    assert rec.firings[0].moves[0] == pytest.approx(want)
    assert rec.unit == "%"


def test_as_of_leaves_later_horizons_open(market: MarketData) -> None:
    idx = market.close.index
    day = idx[500].date()
    cut = idx[540].date()  # 40 closes later: 1 month known, 3 and 6 months not yet
    rec = track_record([day, idx[600].date()], market, ("AAA", "BBB"), HORIZONS, as_of=cut)
    assert len(rec.firings) == 1  # the firing after as_of is not known yet
    assert rec.firings[0].moves[0] is not None
    assert rec.firings[0].moves[1:] == (None, None)
    assert rec.summary(63).n == 0 and rec.summary(63).open == 1


def test_firing_on_a_day_without_a_close_uses_the_last_close_before(market: MarketData) -> None:
    idx = market.close.index
    friday = next(d for d in idx[200:] if d.day_of_week == 4)
    saturday = (friday + pd.Timedelta(days=1)).date()
    by_sat = track_record([saturday], market, ("AAA", "BBB"), HORIZONS)
    by_fri = track_record([friday.date()], market, ("AAA", "BBB"), HORIZONS)
    assert by_sat.firings[0].moves == by_fri.firings[0].moves


def test_alerts_in_resolved_out(market: MarketData) -> None:
    d1, d2 = market.close.index[50].date(), market.close.index[60].date()
    alerts = [
        Alert("r", d1, 1.5, "fired", kind="firing"),
        Alert("r", d2, 1.2, "resolved", kind="resolved"),
    ]
    rec = track_record(alerts, market, ("AAA", "BBB"), HORIZONS, rule="r")
    assert [(f.date, f.value) for f in rec.firings] == [(d1, 1.5)]


def test_summary_line_always_states_n(market: MarketData) -> None:
    idx = market.close.index
    days = [idx[i].date() for i in (10, 200, 400, 880)]
    rec = track_record(days, market, ("AAA", "BBB"), HORIZONS, since=dt.date(2015, 1, 1))
    s = rec.summary(63)
    line = summary_line(rec)
    assert line.startswith("Fired 4× since 2015; AAA beat BBB over the next 3 months after ")
    assert f"after {s.positive} of {s.n} firings (" in line and s.n == 3
    assert "; on any day: " in line
    assert line.endswith(" 1 still open.")
    assert f"of {rec.summary(21).n} firings" in summary_line(rec, horizon=21)

    only_open = track_record([idx[-2].date()], market, ("AAA", None), HORIZONS)
    text = summary_line(only_open)
    assert "n = 0" in text and "1 open" in text
    assert "n = 0" in summary_line(track_record([], market, ("AAA", None), HORIZONS))


def test_round_trip_through_dict(market: MarketData) -> None:
    idx = market.close.index
    rec = track_record([idx[5].date(), idx[-3].date()], market, ("AAA", "BBB"), HORIZONS, rule="x")
    assert TrackRecord.from_dict(rec.to_dict()) == rec


def test_default_track_symbols_per_metric() -> None:
    rules = load_rules(
        [
            {"name": "ratio", "metric": "ratio", "numerator": "^RUT", "denominator": "^GSPC", "condition": "above",
             "threshold": 0.4},
            {"name": "rel", "metric": "relative", "symbol": "IWM", "benchmark": "SPY", "days": 10,
             "condition": "above", "threshold": 1},
            {"name": "rsp", "metric": "sma_distance", "symbol": "RSP", "denominator": "SPY", "basis": "adj_close",
             "condition": "crosses_above", "threshold": 0},
            {"name": "dist", "metric": "sma_distance", "symbol": "^IXIC", "condition": "above", "threshold": 0},
            {"name": "chg", "metric": "change", "symbol": "^RUT", "days": 5, "condition": "above", "threshold": 1},
            {"name": "close", "metric": "close", "symbol": "SPY", "condition": "above", "threshold": 1},
            {"name": "sma", "metric": "sma", "symbol": "SPY", "condition": "above", "threshold": 1},
            {"name": "breadth", "metric": "breadth", "condition": "above", "threshold": 75},
            {"name": "cpi", "metric": "cpi_surprise", "condition": "below", "threshold": 0},
            {"name": "own", "metric": "breadth", "condition": "above", "threshold": 75, "track": ["IWM", "SPY"],
             "horizons": [5, 10]},
        ]
    )  # fmt: skip
    got = {r.name: track_symbols(r) for r in rules}
    assert got == {
        "ratio": ("^RUT", "^GSPC"),
        "rel": ("IWM", "SPY"),
        "rsp": ("RSP", "SPY"),
        "dist": ("^IXIC", None),
        "chg": ("^RUT", None),
        "close": ("SPY", None),
        "sma": ("SPY", None),
        "breadth": ("^GSPC", None),
        "cpi": ("^RUT", "^GSPC"),
        "own": ("IWM", "SPY"),
    }
    by_name = {r.name: r for r in rules}
    assert track_horizons(by_name["own"]) == (5, 10)
    assert track_horizons(by_name["ratio"]) == HORIZONS
    assert track_basis(by_name["rsp"]) == "adj_close"
    assert track_basis(by_name["ratio"]) == "close"
