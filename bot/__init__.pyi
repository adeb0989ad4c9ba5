# The table of contents of bot: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from . import answers as answers
from . import calendar as calendar
from . import chat as chat
from . import cli as cli
from . import config as config
from . import console as console
from . import edits as edits
from . import errors as errors
from . import ingest as ingest
from . import jobs as jobs
from . import market as market
from . import store as store
from . import telegram as telegram
from . import values as values
