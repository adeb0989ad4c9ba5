# The rule engine's public surface, loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

# The rule language (no pandas): model, catalog, state, alert, errors.
from .alert import Alert as Alert
from .catalog import CPI_MEASURES as CPI_MEASURES
from .catalog import METRICS as METRICS
from .catalog import Basis as Basis
from .catalog import BreadthParams as BreadthParams
from .catalog import RatioParams as RatioParams
from .catalog import cpi_surprise as cpi_surprise

# The numeric engine (pandas, numpy): loaded by the first name used.
from .data import MarketData as MarketData
from .engine import Evaluation as Evaluation
from .engine import Replay as Replay
from .engine import RuleResult as RuleResult
from .engine import compute as compute
from .engine import condition_series as condition_series
from .engine import evaluate as evaluate
from .engine import replay as replay
from .engine import run_rule as run_rule
from .errors import ConfigError as ConfigError
from .errors import DataError as DataError
from .errors import Problem as Problem
from .errors import RuleError as RuleError
from .errors import pydantic_problems as pydantic_problems
from .metrics import MetricSeries as MetricSeries
from .metrics import breadth_frame as breadth_frame
from .metrics import ratio_series as ratio_series
from .metrics import usable_breadth as usable_breadth
from .model import CONDITIONS as CONDITIONS
from .model import Rule as Rule
from .model import RuleSpec as RuleSpec
from .model import is_name as is_name
from .model import load_rules as load_rules
from .model import lookback_days as lookback_days
from .reason import state_reason as state_reason
from .rotation import MAX_HELD_SHARE as MAX_HELD_SHARE
from .rotation import Episode as Episode
from .rotation import Move as Move
from .rotation import current_move as current_move
from .rotation import episodes as episodes
from .rotation import held_share as held_share
from .rotation import move_between as move_between
from .rotation import outcome_word as outcome_word
from .rotation import percentile as percentile
from .ruletest import load_test_file as load_test_file
from .ruletest import run_test as run_test
from .state import RuleState as RuleState
from .state import State as State
from .track import HorizonSummary as HorizonSummary
from .track import TrackRecord as TrackRecord
from .track import track_basis as track_basis
from .track import track_horizons as track_horizons
from .track import track_record as track_record
from .track import track_symbols as track_symbols
from .trackline import across as across
from .trackline import median_words as median_words
from .trackline import summary_line as summary_line

# How a track record reads (no pandas: rules list words cached records with these).
from .words import EDGE as EDGE
from .words import POWER_GOAL as POWER_GOAL
from .words import Odds as Odds
from .words import adjusted as adjusted
from .words import format_move as format_move
from .words import headline_horizon as headline_horizon
from .words import horizon_label as horizon_label
from .words import is_current as is_current
from .words import odds_phrase as odds_phrase
from .words import p_text as p_text
from .words import share as share
from .words import signed as signed
from .words import tested_text as tested_text
from .words import verdict_words as verdict_words
