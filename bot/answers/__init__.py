"""What the bot shows: the views behind /ratio /breadth /cpi /status, the digest, charts, and the
one renderer of message text (with Telegram's length limits)."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
