# The table of contents of bot.config: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .defaults import DEFAULT_RULES as DEFAULT_RULES
from .edit import Edit as Edit
from .edit import EditConflict as EditConflict
from .edit import Preview as Preview
from .edit import apply as apply
from .edit import preview as preview
from .names import generated_name as generated_name
from .reload import POLL_SECONDS as POLL_SECONDS
from .reload import ConfigHolder as ConfigHolder
from .reload import Notify as Notify
from .reload import describe_changes as describe_changes
from .reload import reload_config as reload_config
from .sections import ROTATION_MAX_DAYS as ROTATION_MAX_DAYS
from .sections import ROTATION_MIN_GAP as ROTATION_MIN_GAP
from .sections import Settings as Settings
from .sections import UniverseConfig as UniverseConfig
from .settings import Config as Config
from .settings import find_rule as find_rule
from .settings import load_config as load_config
from .settings import parse_config as parse_config
from .stale import StaleWords as StaleWords
from .stale import stale_words as stale_words
from .tomlvalues import parse_value as parse_value
