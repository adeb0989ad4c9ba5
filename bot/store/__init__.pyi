# The table of contents of bot.store: loaded lazily by __init__.py (lazy_loader.attach_stub).
__all__: list[str]

from . import chats as chats
from . import edits as edits
from . import future as future
from . import outbox as outbox
from .backup import Backup as Backup
from .backup import backups_of as backups_of
from .backup import take_backup as take_backup
from .db import Store as Store
from .db import iso as iso
from .db import utcnow as utcnow
from .faults import FAULTS as FAULTS
from .faults import is_corrupt as is_corrupt
from .faults import store_fault as store_fault
from .lock import running_alone as running_alone
from .peek import cached_tracks as cached_tracks
from .peek import stored_symbols as stored_symbols
from .restore import Restored as Restored
from .restore import restore_backup as restore_backup
