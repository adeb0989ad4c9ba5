"""Built-in rules, used when config.toml has no ``[[rules]]`` at all (the shipped config.toml
spells the same rules out so users can edit them).

They are tuned to be quiet: replayed over all the offline data, each fires at most 4 times in any
calendar year (README, "Default rules and their noise"; `rotation-bot whatif` shows the evidence).
"""

from __future__ import annotations

from typing import Any

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "rut-spx-above-0.4",
        "metric": "ratio",
        "numerator": "^RUT",
        "denominator": "^GSPC",
        "condition": "crosses_above",
        "threshold": 0.4,
        "hysteresis": 0.01,
        "message": "Small caps gaining: Russell 2000 / S&P 500 at {value:.3f}, above {threshold}",
    },
    {
        "name": "rut-spx-below-0.4",
        "metric": "ratio",
        "numerator": "^RUT",
        "denominator": "^GSPC",
        "condition": "crosses_below",
        "threshold": 0.4,
        "hysteresis": 0.01,
        "message": "Small caps fading: Russell 2000 / S&P 500 at {value:.3f}, below {threshold}",
    },
    {
        "name": "breadth-above-75",
        "metric": "breadth",
        "universe": "sp500",
        "window": 200,
        "condition": "crosses_above",
        "threshold": 75,
        "hysteresis": 5,
        "for_days": 3,
        "cooldown_days": 40,
        "message": "Broad rally: {value:.1f}% of S&P 500 members above their 200-day average ({counted} counted)",
    },
    {
        "name": "rut-beats-spx-10d",
        "metric": "relative",
        "symbol": "^RUT",
        "benchmark": "^GSPC",
        "days": 10,
        "condition": "crosses_above",
        "threshold": 8,
        "cooldown_days": 21,
        "message": "Russell 2000 beat the S&P 500 by {value:.1f} pt over 10 trading days",
    },
    {
        "name": "rsp-spy-above-200d",
        "metric": "sma_distance",
        "symbol": "RSP",
        "denominator": "SPY",
        "window": 200,
        "basis": "adj_close",
        "condition": "crosses_above",
        "threshold": 0,
        "for_days": 5,
        "cooldown_days": 21,
        "message": "Equal weight gaining: RSP / SPY crossed above its 200-day average ({value:+.2f}% on {date})",
    },
]
