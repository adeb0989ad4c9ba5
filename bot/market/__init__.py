"""The store read as the market: the engine's MarketData, CPI releases, load windows, and the rules run over
that past (replays, track records, what-ifs, the rotation answer), and what counts as stale data. (Not to be
confused with /history, the history of config.toml's edits: that is bot/edits.)"""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
