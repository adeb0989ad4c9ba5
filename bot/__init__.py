"""rotation-bot's service: market data in, Telegram alerts out, in floors that import downwards only.

From the top: ``cli`` (the command line) and ``console`` (commands on stdin), ``telegram`` (the PTB
application and delivery), ``chat`` (the command table and the running service, no Telegram),
``edits`` (the one flow that previews, writes, records and undoes an edit of config.toml), ``jobs`` (the
daily check and the scheduler), ``answers`` (what commands show, rendered once) and
``ingest`` (fetching), ``market`` (the store read as the market, and the rules run over its past),
``store`` (SQLite: all SQL), ``calendar`` (market time), ``config``, ``values`` and ``errors``.
``pyproject.toml`` states the order once as an import-linter contract; the rule engine itself is the
separate, pure ``rules``."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
