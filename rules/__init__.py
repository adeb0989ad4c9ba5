"""rotation-bot's rule engine: pure functions from data frames and rule definitions to alerts.

Nothing here does I/O. The bot hands in a ``MarketData`` built from its store and the
``RuleState`` values it persisted, and stores what comes back.

The public surface is ``__init__.pyi``, the table of contents: each name loads its module on
first use (scientific Python's SPEC 1 lazy loading), so validating or listing rules never imports
pandas, and a command that only needs the rule language starts in a blink.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
