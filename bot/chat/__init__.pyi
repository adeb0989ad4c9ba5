# The table of contents of bot.chat: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .base import CONSOLE_CHAT as CONSOLE_CHAT
from .base import MAX_ALERTS as MAX_ALERTS
from .base import MAX_MUTE as MAX_MUTE
from .base import Command as Command
from .base import CommandContext as CommandContext
from .base import Reply as Reply
from .base import UsageError as UsageError
from .base import parse_duration as parse_duration
from .buttons import Button as Button
from .buttons import Keyboard as Keyboard
from .buttons import alert_buttons as alert_buttons
from .buttons import labels as labels
from .buttons import parse_button as parse_button
from .commands import BY_NAME as BY_NAME
from .commands import COMMANDS as COMMANDS
from .commands import dispatch as dispatch
from .commands import parse_line as parse_line
from .commands import press as press
from .commands import run_command as run_command
from .service import DELIVERY_SECONDS as DELIVERY_SECONDS
from .service import RunOptions as RunOptions
from .service import Service as Service
