# The table of contents of bot.market: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .cpi import cpi_frame as cpi_frame
from .cpi import cpi_summary as cpi_summary
from .cpi import parse_consensus_args as parse_consensus_args
from .cpi import set_consensus as set_consensus
from .data import load_market_data as load_market_data
from .data import membership_frame as membership_frame
from .data import universe_members as universe_members
from .replay import WARM_UP as WARM_UP
from .replay import YEAR_BACK as YEAR_BACK
from .replay import default_as_of as default_as_of
from .replay import enabled_rules as enabled_rules
from .replay import load_start as load_start
from .replay import require_data_by as require_data_by
from .replay import require_prices as require_prices
from .replay import rules_start as rules_start
from .replay import run_replay as run_replay
from .rotation import RotationView as RotationView
from .rotation import rotation_view as rotation_view
from .stale import expected_close as expected_close
from .stale import expected_close_on as expected_close_on
from .stale import stale_symbols as stale_symbols
from .track import compute_track_records as compute_track_records
from .track import stats_json as stats_json
from .track import stats_lines as stats_lines
from .track import track_record_for as track_record_for
from .track import track_records as track_records
from .whatif import Variant as Variant
from .whatif import edited as edited
from .whatif import load_rule_file as load_rule_file
from .whatif import parse_edits as parse_edits
from .whatif import replay_variants as replay_variants
from .whatif import sweep as sweep
from .whatif import sweep_axis as sweep_axis
from .whatif import whatif as whatif
