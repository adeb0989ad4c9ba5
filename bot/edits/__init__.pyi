# The table of contents of bot.edits: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from .flow import DISABLED as DISABLED
from .flow import Applied as Applied
from .flow import Proposal as Proposal
from .flow import apply_edit as apply_edit
from .flow import propose as propose
from .flow import rejudge as rejudge
from .flow import whatif as whatif
from .record import EditNotRecorded as EditNotRecorded
from .record import Undo as Undo
from .record import history as history
from .record import preview_undo as preview_undo
from .record import save_edit as save_edit
from .record import settle as settle
