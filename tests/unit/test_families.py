"""Several p-values on one page are one family: a record's horizons, a listing's rules, a sweep's values."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

from bot.answers.noise import as_family, noise_texts
from rules import MarketData
from rules.evidence import chance
from rules.track import track_record
from rules.trackline import across
from rules.words import Odds, adjusted, verdict_words


def test_adjusted_p_values_are_benjamini_hochberg_as_scipy_computes_them() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 3, 18, 21):
        ps = list(rng.uniform(0, 1, size) ** 3)
        assert adjusted(ps) == pytest.approx(list(false_discovery_control(ps)))
    # a missing p-value (nothing to test) is no member of the family
    got = adjusted([0.041, None, 0.29, 0.55])
    assert got[1] is None and got[0] == pytest.approx(0.041 * 3)


def test_one_horizon_of_three_at_p_004_is_no_finding_once_adjusted() -> None:
    base = np.array([1.0] * 48 + [-1.0] * 52)
    one_of_nine = chance(np.array([1.0] + [-1.0] * 8), np.arange(9) * 100, base, 63)
    assert one_of_nine.p_value is not None and one_of_nine.p_value < 0.05 and one_of_nine.verdict == "worse"
    family = dataclasses.replace(one_of_nine, p_adjusted=adjusted([one_of_nine.p_value, 0.29, 0.55])[0], family=3)
    assert family.verdict == "too_few"  # p ≈ 0.12 after adjustment, and 9 firings could not see a 15-pt edge
    text = verdict_words(family.odds(9, 1))
    assert text.startswith("too few firings to tell (p = 0.12 adjusted for 3 tests (0.04 alone);")


@pytest.fixture
def market() -> MarketData:
    rng = np.random.default_rng(5)
    n = 1500
    idx = pd.bdate_range("2010-01-01", periods=n)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.010, n)))
    close = pd.DataFrame({"AAA": a, "BBB": b}, index=idx)
    return MarketData(close=close, adj_close=close)


def test_a_record_adjusts_its_horizons_together(market: MarketData) -> None:
    idx = market.close.index
    rec = track_record([idx[i].date() for i in range(50, 1400, 70)], market, ("AAA", "BBB"), (21, 63, 126))
    raw = [s.chance.p_value for s in rec.summaries]
    assert [s.chance.p_adjusted for s in rec.summaries] == pytest.approx(
        list(false_discovery_control([p for p in raw if p is not None]))
    )
    assert {s.chance.family for s in rec.summaries} == {3}
    doc = rec.to_dict()["summaries"][0]
    assert doc["p_adjusted"] == rec.summaries[0].chance.p_adjusted and doc["family"] == 3


def test_a_sweep_adjusts_each_values_test_with_the_others(market: MarketData) -> None:
    idx = market.close.index
    records = [
        track_record([idx[i].date() for i in range(start, 1400, 65)], market, ("AAA", "BBB"), (21, 63))
        for start in (40, 45, 50, 55)
    ]
    swept = across([*records, None], 63)
    raw = [r.summary(63).chance.p_value for r in records]
    got = [r.summary(63).chance.p_adjusted for r in swept if r is not None]
    assert got == pytest.approx(list(false_discovery_control([p for p in raw if p is not None]))) and swept[-1] is None
    assert all(r.summary(63).chance.family == 4 for r in swept if r is not None)
    assert all(a.summary(21) == b.summary(21) for a, b in zip(records, swept, strict=False) if b is not None)


def _payload(ps: list[float]) -> dict[str, Any]:
    """A cached record's JSON: one firing in nine beat, at three horizons."""
    one = {"n": 9, "positive": 1, "independent": 9, "independent_positive": 1, "base_rate": 0.48, "power": 0.1}
    return {
        "benchmark": "B",
        "summaries": [
            {**one, "horizon": h, "p_value": p, "min_detectable": 0.44} for h, p in zip((21, 63, 126), ps, strict=True)
        ],
    }


def test_a_listing_of_rules_adjusts_every_rule_and_horizon_as_one_family() -> None:
    payloads = {f"r{i}": _payload([0.5, 0.3 + i / 10, 0.9]) for i in range(5)}
    payloads["mean-reverting"] = _payload([0.55, 0.041, 0.29])
    family = as_family(payloads)
    s = family["mean-reverting"]["summaries"][1]
    assert s["family"] == 18 and s["p_adjusted"] > 0.5
    assert Odds.from_dict(s).verdict == "too_few"  # alone "worse" (p = 0.041); one of 18, no finding
    text = noise_texts(payloads)["mean-reverting"]
    assert "too few firings to tell (p = " in text and "p = 0.74 adjusted for 18 tests (0.04 alone)" in text
