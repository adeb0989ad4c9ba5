"""What follows each daily job: the store's backup when ``[store] backups`` is set.

It may not fail the job: the check has run and its alerts are queued. A backup that fails is told to
the admins (the disk is full, the store went bad).
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.config import Config
from bot.errors import BotError
from bot.store import Store, take_backup

log = logging.getLogger(__name__)


def daily_backup(store: Store, config: Config, now: dt.datetime) -> str | None:
    """Back the store up after the day's check; returns the admins' message when that failed."""
    folder = config.backup_folder
    if folder is None:
        return None
    try:
        taken = take_backup(store.path, folder, config.settings.store.keep, now=now)
    except (BotError, OSError) as exc:
        log.warning("the daily backup failed: %s", exc)
        return f"The daily backup of the store failed: {exc}"
    except Exception as exc:  # a bug here must not cost the day's heartbeat
        log.exception("the daily backup failed")
        return f"The daily backup of the store failed: {type(exc).__name__}: {exc}"
    gone = f", removed {len(taken.removed)} older" if taken.removed else ""
    log.info("backed the store up to %s (%.1f MB, %.1f s%s)", taken.path, taken.size / 1e6, taken.seconds, gone)
    return None
