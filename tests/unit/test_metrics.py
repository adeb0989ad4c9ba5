"""Each metric on small generated series: NaN gaps, a holiday, a symbol that starts late."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import METRICS, DataError, MarketData, load_rules, replay
from rules.arith import pct_change, rolling_mean
from rules.catalog import METRICS as CATALOG
from rules.catalog import BreadthParams, Metric, Params, declare
from rules.metrics import COMPUTE, MetricSeries, breadth_frame, compute_metric, computes
from tests.support.factories import market

NAN = math.nan


def compute(metric: str, data: MarketData, **params: Any) -> MetricSeries:
    m = METRICS[metric]
    return compute_metric(metric, data, m.params.model_validate(params))


def days(series: pd.Series) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in series.index]


# --- close, sma ----------------------------------------------------------------------------------


def test_close_skips_gaps_and_holidays() -> None:
    data = market({"A": [1, 2, NAN, 4, NAN, 6], "B": [1, 1, 1, 1, NAN, 1]})
    s = compute("close", data, symbol="A").values
    assert s.tolist() == [1, 2, 4, 6]
    assert days(s) == ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-08"]  # 01-05 was a holiday


def test_close_uses_adj_close_when_asked() -> None:
    idx = pd.bdate_range("2024-01-01", periods=2)
    data = MarketData(
        close=pd.DataFrame({"A": [10.0, 11.0]}, index=idx), adj_close=pd.DataFrame({"A": [9.0, 10.0]}, index=idx)
    )
    assert compute("close", data, symbol="A", basis="adj_close").values.tolist() == [9, 10]
    assert compute("close", data, symbol="A").values.tolist() == [10, 11]


def test_unknown_or_empty_symbol_is_a_data_error() -> None:
    data = market({"A": [1, 2], "E": [NAN, NAN]})
    with pytest.raises(DataError, match="no prices stored for symbol 'ZZZ'"):
        compute("close", data, symbol="ZZZ")
    with pytest.raises(DataError, match="'E'"):
        compute("sma", data, symbol="E", window=1)


def test_sma_spans_a_gap_over_the_symbols_own_rows() -> None:
    data = market({"A": [1, 2, NAN, 3, 4, NAN, 5], "B": [1] * 7})
    s = compute("sma", data, symbol="A", window=3).values
    assert s.round(6).tolist() == [2.0, 3.0, 4.0]  # (1+2+3)/3, (2+3+4)/3, (3+4+5)/3
    assert days(s) == ["2024-01-04", "2024-01-05", "2024-01-09"]


def test_sma_of_a_late_starter_begins_after_its_own_window() -> None:
    data = market({"A": [NAN, NAN, NAN, 2, 4, 6], "B": [1] * 6})
    s = compute("sma", data, symbol="A", window=2).values
    assert s.tolist() == [3.0, 5.0]
    assert days(s)[0] == "2024-01-05"


# --- ratio -----------------------------------------------------------------------------------------


def test_ratio_on_days_both_have_a_close() -> None:
    data = market({"RSP": [NAN, 10, 11, NAN, 12], "SPY": [20, 20, 22, 22, 24]})
    s = compute("ratio", data, numerator="RSP", denominator="SPY").values
    assert s.tolist() == [0.5, 0.5, 0.5]
    assert days(s) == ["2024-01-02", "2024-01-03", "2024-01-05"]


def test_ratio_drops_a_zero_denominator() -> None:
    data = market({"A": [1, 1, 1], "B": [1, 0, 2]})
    assert compute("ratio", data, numerator="A", denominator="B").values.tolist() == [1.0, 0.5]


# --- sma_distance ----------------------------------------------------------------------------------


def test_sma_distance_of_a_symbol_and_of_a_ratio() -> None:
    data = market({"A": [1, 1, 1, 2], "B": [1, 1, 1, 1]})
    s = compute("sma_distance", data, symbol="A", window=2).values
    assert s.round(6).tolist() == [0.0, 0.0, pytest.approx(100 * (2 / 1.5 - 1))]
    r = compute("sma_distance", data, symbol="A", denominator="B", window=2)
    assert r.values.round(6).tolist() == s.round(6).tolist()
    assert r.unit == "%"


# --- change, relative ------------------------------------------------------------------------------


def test_change_over_own_trading_days() -> None:
    data = market({"A": [100, NAN, 110, 121, 121], "B": [1] * 5})
    s = compute("change", data, symbol="A", days=1).values
    assert s.round(9).tolist() == [10.0, 10.0, 0.0]
    assert days(s) == ["2024-01-03", "2024-01-04", "2024-01-05"]


def test_relative_is_the_difference_of_changes_and_reports_both() -> None:
    data = market({"RUT": [100, 100, 110, 120], "SPX": [100, 100, 105, 105]})
    m = compute("relative", data, symbol="RUT", benchmark="SPX", days=2)
    assert m.values.round(9).tolist() == [5.0, 15.0]
    assert m.details is not None
    assert m.details["benchmark_change"].round(9).tolist() == [5.0, 5.0]
    assert m.unit == "pt"


def test_relative_with_a_late_benchmark_starts_when_both_have_history() -> None:
    data = market({"RUT": [100, 100, 110, 120, 130], "SPX": [NAN, NAN, 100, 100, 100]})
    m = compute("relative", data, symbol="RUT", benchmark="SPX", days=1)
    assert days(m.values) == ["2024-01-04", "2024-01-05"]


# --- breadth ---------------------------------------------------------------------------------------


def test_breadth_counts_members_with_a_close_and_enough_history() -> None:
    data = market(
        {
            "UP": [1, 2, 3, 4, 5],
            "DOWN": [5, 4, 3, 2, 1],
            "GAP": [1, 2, NAN, 4, 5],  # no close on day 3: not counted that day
            "LATE": [NAN, NAN, NAN, 1, 2],  # too young until day 5
        },
        universes={"u": ("UP", "DOWN", "GAP", "LATE", "NOPRICES")},
    )
    frame = breadth_frame(data, BreadthParams(universe="u", window=2))
    assert frame["counted"].tolist() == [0, 3, 2, 3, 4]
    assert frame["above"].tolist() == [0, 2, 1, 2, 3]
    assert frame["excluded"].tolist() == [5, 2, 3, 2, 1]
    m = compute("breadth", data, universe="u", window=2)
    assert m.values.round(6).tolist() == [round(200 / 3, 6), 50.0, round(200 / 3, 6), 75.0]
    assert m.details is not None and m.details["members"].tolist() == [5, 5, 5, 5]


def test_breadth_point_in_time_membership_counts_only_members_of_the_day() -> None:
    data = market({"A": [1, 2, 3, 4], "B": [4, 3, 2, 1]})
    mask = pd.DataFrame({"A": [True] * 4, "B": [True, True, False, False]}, index=data.close.index)
    data = MarketData(close=data.close, membership={"u": mask})
    m = compute("breadth", data, universe="u", window=2)
    assert m.values.tolist() == [50.0, 100.0, 100.0]
    assert m.details is not None and m.details["members"].tolist() == [2, 1, 1]


def test_breadth_without_members_is_a_data_error() -> None:
    data = market({"A": [1, 2]}, universes={"u": ("X",)})
    with pytest.raises(DataError, match="no prices stored for any member of universe 'u'"):
        compute("breadth", data, universe="u")
    with pytest.raises(DataError, match="universe 'v' has no member list"):
        compute("breadth", data, universe="v")
    with pytest.raises(DataError, match="point-in-time"):
        compute("breadth", data, universe="u", membership="point_in_time")


# --- cpi_surprise ----------------------------------------------------------------------------------


def cpi(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    idx = pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows], name="date")
    return pd.DataFrame(
        {
            "month": ["2024-05", "2024-06", "2024-07"][: len(rows)],
            "actual_core_mom": [r[1] for r in rows],
            "expected_core_mom": [r[2] for r in rows],
            "naive_core_mom": [r[3] for r in rows],
        },
        index=idx,
    )


def test_cpi_surprise_is_actual_minus_consensus_on_release_days() -> None:
    data = MarketData(
        close=pd.DataFrame(),
        cpi=cpi([("2024-06-12", 0.2, 0.3, 0.25), ("2024-07-11", 0.1, NAN, 0.2), ("2024-08-14", 0.2, 0.2, 0.1)]),
    )
    m = compute("cpi_surprise", data, measure="core_mom")
    assert m.values.tolist() == [-0.1, 0.0]
    assert days(m.values) == ["2024-06-12", "2024-08-14"]
    n = compute("cpi_surprise", data, measure="core_mom", fallback="naive")
    assert n.values.tolist() == [-0.1, -0.1, 0.0]
    assert n.details is not None and n.details["expected_basis"].tolist() == ["consensus", "naive", "consensus"]


def test_cpi_surprise_without_releases_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no CPI releases stored"):
        compute("cpi_surprise", MarketData(close=pd.DataFrame()))


# --- the registry ----------------------------------------------------------------------------------


def test_every_metric_declares_strict_parameters_and_describes_itself() -> None:
    for name, m in METRICS.items():
        assert m.name == name
        assert m.params.model_config.get("extra") == "forbid"
        assert m.doc


def test_every_declared_metric_is_computed() -> None:
    assert set(CATALOG) == set(COMPUTE)


def test_a_new_metric_is_one_declaration_and_one_function() -> None:
    class SpreadParams(Params):
        a: str
        b: str

    declare(Metric("spread", SpreadParams, lambda p: {p.a, p.b}, lambda p: f"{p.a} − {p.b}", "A minus B."))

    @computes("spread")
    def spread(data: MarketData, p: SpreadParams) -> MetricSeries:
        return MetricSeries((data.series(p.a) - data.series(p.b)).dropna())

    try:
        rules = load_rules(
            [{"name": "s", "metric": "spread", "a": "X", "b": "Y", "condition": "above", "threshold": 0}]
        )
        data = market({"X": [1, 1, 3], "Y": [2, 2, 2]})
        alerts = replay(rules, data, data.close.index[0].date(), data.close.index[-1].date()).alerts
        assert [(a.date.isoformat(), a.value) for a in alerts] == [("2024-01-03", 1.0)]
    finally:
        del CATALOG["spread"], COMPUTE["spread"]


# --- the arithmetic against pandas ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.none(), st.floats(1, 100)), min_size=3, max_size=3), min_size=1, max_size=30),
    st.integers(1, 6),
)
def test_rolling_mean_matches_pandas_on_each_columns_own_rows(rows: list[list[float | None]], window: int) -> None:
    values = np.array([[NAN if v is None else v for v in r] for r in rows], dtype=float)
    got = rolling_mean(values, window)
    for col in range(values.shape[1]):
        own = pd.Series(values[:, col]).dropna()
        want = own.rolling(window).mean().reindex(range(len(values)))
        np.testing.assert_allclose(got[:, col], want.to_numpy(), rtol=1e-9, equal_nan=True)


def test_pct_change_needs_more_rows_than_days() -> None:
    assert np.isnan(pct_change(np.array([1.0, 2.0]), 2)).all()
    assert pct_change(np.array([1.0, 2.0, 3.0]), 2)[2] == 200.0
