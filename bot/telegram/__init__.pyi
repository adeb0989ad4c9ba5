# The table of contents of bot.telegram: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .app import build_application as build_application
from .app import run_telegram as run_telegram
from .app import set_commands as set_commands
from .delivery import deliver_pending as deliver_pending
from .redact import redact_token_in_logs as redact_token_in_logs
