# The table of contents of bot.chat: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .commands import COMMANDS as COMMANDS
from .commands import CONSOLE_CHAT as CONSOLE_CHAT
from .commands import Command as Command
from .commands import CommandContext as CommandContext
from .commands import Reply as Reply
from .commands import UsageError as UsageError
from .commands import dispatch as dispatch
from .commands import parse_line as parse_line
from .commands import run_command as run_command
from .service import DELIVERY_SECONDS as DELIVERY_SECONDS
from .service import Service as Service
