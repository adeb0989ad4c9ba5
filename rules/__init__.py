"""rotation-bot's rule engine: pure functions from data frames and rule definitions to alerts.

Nothing here does I/O. The bot hands in a ``MarketData`` built from its store and the
``RuleState`` values it persisted, and stores what comes back.
"""

from rules.data import MarketData
from rules.engine import Alert, Evaluation, Replay, RuleResult, evaluate, replay, run_rule
from rules.errors import ConfigError, DataError, Problem, RuleError
from rules.metrics import REGISTRY as METRICS
from rules.metrics import MetricSeries
from rules.model import Rule, load_rules
from rules.state import RuleState, State

__all__ = [
    "METRICS",
    "Alert",
    "ConfigError",
    "DataError",
    "Evaluation",
    "MarketData",
    "MetricSeries",
    "Problem",
    "Replay",
    "Rule",
    "RuleError",
    "RuleResult",
    "RuleState",
    "State",
    "evaluate",
    "load_rules",
    "replay",
    "run_rule",
]
