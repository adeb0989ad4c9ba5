"""Base rates and tests of chance beside every track record (rules/evidence.py through track_record)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, binomtest

from rules import MarketData
from rules.evidence import chance, forward_moves, power_of, rejects, spaced
from rules.track import track_record
from rules.trackline import summary_line
from rules.words import Odds, decide, is_current, odds_phrase


@pytest.fixture
def market() -> MarketData:
    """1,200 business days from 2015-01-01: two random walks."""
    rng = np.random.default_rng(11)
    n = 1200
    idx = pd.bdate_range("2015-01-01", periods=n)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.010, n)))
    close = pd.DataFrame({"AAA": a, "BBB": b}, index=idx)
    return MarketData(close=close, adj_close=close)


def test_base_rate_is_every_day_of_the_span_with_a_complete_horizon(market: MarketData) -> None:
    idx = market.close.index
    since = idx[100].date()
    rec = track_record([idx[300].date()], market, ("AAA", "BBB"), (63,), since=since)
    # independently: the relative move from each day since `since` whose 63rd close is known
    a, b = market.close["AAA"], market.close["BBB"]
    fwd = ((a.shift(-63) / a - 1) - (b.shift(-63) / b - 1)) * 100
    span = fwd.loc[pd.Timestamp(since) :].dropna()
    c = rec.summary(63).chance
    assert c.base_n == len(span) == len(idx) - 100 - 63
    assert c.base_positive == int((span > 0).sum())
    assert c.base_median == pytest.approx(float(span.median()))


def test_as_of_base_rate_uses_only_windows_complete_by_then(market: MarketData) -> None:
    idx = market.close.index
    as_of = idx[700].date()
    rec = track_record([idx[650].date(), idx[900].date()], market, ("AAA", None), (21,), as_of, since=idx[0].date())
    c = rec.summary(21).chance
    assert c.base_n == 700 + 1 - 21  # rows 0..700 known; a window must end on or before row 700
    assert [f.date for f in rec.firings] == [idx[650].date()]  # the later firing is not known yet
    later = market.close.loc[: pd.Timestamp(as_of)]
    cut = MarketData(close=later, adj_close=later)
    moved = track_record([idx[650].date()], cut, ("AAA", None), (21,), since=idx[0].date())
    assert moved.summary(21) == rec.summary(21)  # nothing after as_of changes anything


def test_firings_closer_than_the_horizon_count_once_in_the_test(market: MarketData) -> None:
    idx = market.close.index
    cluster = [idx[i].date() for i in (200, 201, 202, 203, 204)]
    apart = [idx[500].date()]
    rec = track_record(cluster + apart, market, ("AAA", "BBB"), (63,), since=idx[0].date())
    s = rec.summary(63)
    assert s.n == 6 and s.chance.independent == 2
    assert list(spaced(np.array([0, 10, 62, 63, 64, 200]), 63)) == [True, False, False, True, False, True]


def test_p_value_is_scipys_binomial_test_against_the_base_rate() -> None:
    base = np.array([1.0] * 47 + [-1.0] * 53)
    moves = np.array([2.0, 3.0, -1.0, 4.0, -2.0, 1.0, -3.0])  # 4 of 7 positive
    c = chance(moves, np.arange(7) * 100, base, 63)
    assert c.base_rate == pytest.approx(0.47)
    assert c.p_value == pytest.approx(binomtest(4, 7, 0.47).pvalue)
    assert c.verdict == "too_few"  # 7 firings: the test could see only a huge edge
    strong = chance(np.ones(12), np.arange(12) * 100, base, 63)
    assert strong.verdict == "better" and strong.p_value is not None and strong.p_value < 0.001
    weak = chance(-np.ones(12), np.arange(12) * 100, base, 63)
    assert weak.verdict == "worse"


def test_median_interval_brackets_the_median_and_is_reproducible() -> None:
    moves = np.array([4.2, -6.6, 0.5, 0.1, 6.3, -3.8, -2.0, 2.8])
    one = chance(moves, np.arange(8) * 100, np.array([1.0, -1.0, 0.5]), 63)
    two = chance(moves, np.arange(8) * 100, np.array([1.0, -1.0, 0.5]), 63)
    assert one == two  # a fixed seed: a cached record and a fresh one agree
    assert one.median_low is not None and one.median_high is not None
    assert one.median_low <= float(np.median(moves)) <= one.median_high
    assert chance(moves[:2], np.arange(2) * 100, np.ones(3), 63).median_low is None  # too few for an interval


def test_forward_moves_are_nan_where_the_horizon_is_not_complete() -> None:
    a = np.array([100.0, 110.0, 121.0])
    out = forward_moves(a, None, 1)
    assert out[:2] == pytest.approx([10.0, 10.0]) and np.isnan(out[2])
    assert np.isnan(forward_moves(a, None, 5)).all()


def test_the_wording_a_reader_understands() -> None:
    few = Odds(7, 4, 7, 4, 0.47, 0.71, power=0.04, min_detectable=0.5)
    assert odds_phrase(few, 63) == (
        "4 of 7 firings (57%); on any day: 47% — too few firings to tell (p = 0.71; only an edge of 50 pt or more "
        "could have shown)"
    )
    strong = Odds(10, 9, 9, 9, 0.47, 0.004, power=0.6, min_detectable=0.3)
    assert odds_phrase(strong, 63) == (
        "10 firings, 9 at least 3 months apart: 9 of 9 (100%); on any day: 47% — better than any day (p = 0.004)"
    )
    seen = Odds(80, 40, 80, 40, 0.5, 1.0, power=0.93, min_detectable=0.13)
    assert odds_phrase(seen, 63).endswith("— no clear difference (p = 1.00; power 93% against a 15 pt edge)")


def test_a_verdict_needs_a_rejection_or_the_power_to_see_the_edge() -> None:
    assert decide(0.01, 0.1, 1, 9, 0.48) == "worse"  # rejects: however little power, the difference shows
    assert decide(0.01, 0.1, 8, 9, 0.48) == "better"
    assert decide(0.30, 0.79, 4, 9, 0.48) == "too_few"  # did not reject and could not have seen 15 pt
    assert decide(0.30, 0.80, 40, 80, 0.48) == "no_difference"
    assert decide(None, None, 0, 0, 0.48) is None


@pytest.mark.parametrize(("n", "p0"), [(7, 0.4754), (9, 0.4759), (18, 0.7552), (22, 0.4844), (60, 0.3)])
def test_the_rejection_region_is_binomtests_and_power_is_its_probability(n: int, p0: float) -> None:
    region = rejects(n, p0)
    assert list(region) == [binomtest(k, n, p0).pvalue < 0.05 for k in range(n + 1)]
    power, detectable = power_of(n, p0)
    sides = [binom.pmf(np.nonzero(region)[0], n, p0 + d).sum() for d in (0.15, -0.15) if 0 < p0 + d < 1]
    assert power == pytest.approx(min(sides))
    assert detectable is not None
    at = [binom.pmf(np.nonzero(region)[0], n, p0 + d).sum() for d in (detectable, -detectable) if 0 < p0 + d < 1]
    assert min(at) >= 0.8  # the edge named is seen with 80% power ...
    below = round(detectable - 0.01, 2)
    short = [binom.pmf(np.nonzero(region)[0], n, p0 + d).sum() for d in (below, -below) if 0 < p0 + d < 1]
    assert min(short) < 0.8  # ... and one point less is not


def test_seven_firings_against_half_could_only_see_an_edge_of_fifty_points() -> None:
    power, detectable = power_of(7, 0.4754)
    assert power < 0.05 and detectable == pytest.approx(0.5)
    assert power_of(1, 0.48) == (0.0, None)  # one firing: no count rejects, no edge of any size shows


def test_a_cached_record_of_the_old_evidence_is_not_current(market: MarketData) -> None:
    idx = market.close.index
    payload = track_record([idx[300].date()], market, ("AAA", "BBB"), (63,)).to_dict()
    assert is_current(payload)
    assert not is_current({k: v for k, v in payload.items() if k != "evidence"})


def test_summary_line_carries_the_base_rate(market: MarketData) -> None:
    idx = market.close.index
    rec = track_record(
        [idx[i].date() for i in (100, 400, 800)], market, ("AAA", "BBB"), (63,), since=dt.date(2015, 1, 1)
    )
    line = summary_line(rec)
    c = rec.summary(63).chance
    assert f"on any day: {c.base_rate:.0%}" in line
    assert "too few firings to tell" in line and "(any day " in line
    data = rec.to_dict()["summaries"][0]
    assert data["base_rate"] == c.base_rate and data["base_median"] == c.base_median
    assert data["verdict"] == c.verdict == "too_few" and data["p_value"] == c.p_value
    assert data["power"] == c.power and data["min_detectable"] == c.min_detectable and data["edge"] == 0.15


def test_hit_rate_interval_is_binomtests_exact_interval() -> None:
    base = np.array([1.0] * 47 + [-1.0] * 53)
    for k, n in ((0, 5), (3, 7), (7, 7), (12, 29)):
        moves = np.array([1.0] * k + [-1.0] * (n - k))
        c = chance(moves, np.arange(n) * 100, base, 63)
        ci = binomtest(k, n, 0.47).proportion_ci(confidence_level=0.95, method="exact")
        assert c.rate_low == pytest.approx(ci.low, abs=1e-9)
        assert c.rate_high == pytest.approx(ci.high, abs=1e-9)
