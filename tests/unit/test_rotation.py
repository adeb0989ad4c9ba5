"""rules/rotation.py on made-up closes: an episode is known on the day its gap first reaches min_gap, measured
from the low of that window, and computing on data cut at a day changes nothing before it (no look-ahead)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rules.rotation import SHARE_CLOSES, current_move, episodes, held_share, outcome_word, percentile


def closes(lead: list[float], lag: list[float]) -> pd.DataFrame:
    idx = pd.bdate_range("2020-01-01", periods=len(lead))
    return pd.DataFrame({"A": lead, "B": lag}, index=idx)


def test_a_rotation_is_known_on_the_day_its_gap_first_reaches_min_gap() -> None:
    flat = [100.0] * 10
    lead = flat + [102.0, 104.0, 106.0, 108.0, 110.0, 112.0] + [112.0] * 40
    both = closes(lead, [100.0] * len(lead))
    (e,) = episodes(both, min_gap=8, max_days=10)
    assert e.detected == both.index[13].date()  # +8 % on the 4th rising day
    assert e.move.start == both.index[9].date() and e.move.end == both.index[15].date()
    assert e.move.lead == pytest.approx(12.0) and e.move.lag == 0.0
    assert not e.ongoing and e.last < both.index[-1].date()


def test_episodes_cut_at_a_day_are_the_same_before_it() -> None:
    rng = np.random.default_rng(3)
    n = 1500
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    both = closes(list(a), list(b))
    full = episodes(both, 8, 45)
    assert len(full) > 5
    cut_day = 900
    cut = episodes(both.iloc[: cut_day + 1], 8, 45)
    finished = [e for e in cut if not e.ongoing]
    assert finished == [e for e in full if e.last <= both.index[cut_day - 30].date()][: len(finished)]


def test_the_move_now_starts_at_the_ongoing_episode() -> None:
    lead = [100.0] * 10 + [103.0, 106.0, 109.0, 112.0]
    both = closes(lead, [100.0] * len(lead))
    found = episodes(both, 8, 10)
    assert found[-1].ongoing
    now = current_move(both, 10, found)
    assert now.start == both.index[9].date() and now.gap == pytest.approx(12.0)


def test_words_and_percentile() -> None:
    assert outcome_word(None, 10) == "open"
    assert outcome_word(1.0, 10) == "extended"
    assert outcome_word(-4.0, 10) == "kept"
    assert outcome_word(-6.0, 10) == "given back"
    assert percentile(np.array([1.0, 2.0, 3.0, 4.0]), 3.0) == 75.0


def test_a_lead_given_back_in_full_is_no_rotation_under_way() -> None:
    """On 2024-12-23 the real data said "a rotation under way" with the gap since its start at −1.1 pt."""
    lead = [100.0] * 10 + [103.0, 106.0, 109.0, 112.0] + [108.0, 104.0, 100.0, 98.0]
    both = closes(lead, [100.0] * len(lead))
    (e,) = episodes(both, 8, 10)
    assert not e.ongoing and e.given_back
    now = current_move(both, 10, [e])
    assert now.start == both.index[9].date() and now.gap == pytest.approx(-2.0)  # what became of it


def test_a_gap_that_holds_on_most_days_is_measured_over_two_years_at_least() -> None:
    rng = np.random.default_rng(5)
    n = SHARE_CLOSES
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    both = closes(list(a), list(b))
    assert held_share(both.iloc[:-1], 0.01, 45) is None
    assert held_share(both, 0.01, 45) > 0.5 > held_share(both, 15, 45)  # type: ignore[operator]
