"""The bot's conversation without a transport: the one command table and the running service.
Nothing here imports Telegram; bot.telegram and bot.console carry it."""

import lazy_loader as lazy

# The public surface is __init__.pyi, the table of contents; each name loads its module on first use.
__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
