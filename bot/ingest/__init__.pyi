# The table of contents of bot.ingest: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .fetch import FetchReport as FetchReport
from .fetch import fetch_live as fetch_live
from .fetch import live_symbols as live_symbols
from .sources.csvdir import LoadSummary as LoadSummary
from .sources.csvdir import load_directory as load_directory
from .universe import refresh_universes as refresh_universes
