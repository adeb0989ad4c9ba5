"""What follows each daily job: the store's backup when ``[store] backups`` is set, and the heartbeat.

Neither may fail the job: the check has run and its alerts are queued. A backup that fails is told to
the admins (the disk is full, the store went bad), a heartbeat that fails is only logged: the monitor
raises the alarm itself when no ping arrives.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from bot.config import Config
from bot.errors import BotError
from bot.jobs.heartbeat import ping
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


def beat(config: Config, ok: bool) -> threading.Thread | None:
    """The heartbeat for a daily job that ran (``ok``) or failed; never waits for the monitor."""
    return ping(config.settings.monitor.ping_url, ok)
