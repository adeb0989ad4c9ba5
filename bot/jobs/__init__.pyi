# The table of contents of bot.jobs: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .check import SEND_WITHIN as SEND_WITHIN
from .check import AlertSink as AlertSink
from .check import CheckReport as CheckReport
from .check import digest_text as digest_text
from .check import evaluate_day as evaluate_day
from .check import reevaluate as reevaluate
from .check import rejudged as rejudged
from .check import run_check as run_check
from .notify import notifier as notifier
from .scheduler import TICK_SECONDS as TICK_SECONDS
from .scheduler import BotScheduler as BotScheduler
