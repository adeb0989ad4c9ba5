"""The public API of rules/ is exactly its table of contents (rules/__init__.pyi)."""

from __future__ import annotations

import rules


def test_rules_public_api_is_exactly_the_table_of_contents() -> None:
    assert sorted(rules.__all__) == sorted(
        [
            "Alert",
            "percentile",
            "outcome_word",
            "move_between",
            "episodes",
            "held_share",
            "is_name",
            "MAX_HELD_SHARE",
            "current_move",
            "Move",
            "Episode",
            "Basis",
            "BreadthParams",
            "CONDITIONS",
            "CPI_MEASURES",
            "ConfigError",
            "DataError",
            "Evaluation",
            "HorizonSummary",
            "METRICS",
            "MarketData",
            "MetricSeries",
            "Problem",
            "RatioParams",
            "Replay",
            "Rule",
            "RuleError",
            "RuleResult",
            "RuleSpec",
            "RuleState",
            "State",
            "TrackRecord",
            "breadth_frame",
            "compute",
            "condition_series",
            "cpi_surprise",
            "evaluate",
            "format_move",
            "headline_horizon",
            "horizon_label",
            "load_rules",
            "load_test_file",
            "lookback_days",
            "odds_phrase",
            "p_text",
            "pydantic_problems",
            "ratio_series",
            "replay",
            "run_rule",
            "run_test",
            "share",
            "signed",
            "state_reason",
            "summary_line",
            "track_basis",
            "track_horizons",
            "track_record",
            "track_symbols",
            "usable_breadth",
            "verdict_words",
        ]
    )
    for name in rules.__all__:
        assert getattr(rules, name) is not None
