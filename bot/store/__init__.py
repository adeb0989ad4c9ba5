"""The SQLite store: prices, reference data, rule state, alerts, chats, the outbox. All SQL lives here."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
