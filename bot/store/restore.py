"""Putting a backup back (``rotation-bot restore FILE``), never under a running bot.

The run lock is held throughout, so no bot starts on the store midway, and the backup is checked
(a SQLite file, sound, written by this release or an older one) before anything is touched. The store
as it was is first copied to ``NAME.before-restore``, so a restore of the wrong file can be undone.
A sound store is then overwritten through SQLite's backup API, which takes the store's own write lock:
a ``check`` or ``status`` running beside it sees the old store or the restored one, never a mix, and
its WAL is SQLite's to mend. A damaged store is emptied first (its file, its ``-wal``), the only way
SQLite will write into it; either way the file keeps its inode, so the run lock stays on it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from bot.errors import StoreError
from bot.store.backup import connect_read_only, copy_database
from bot.store.db import Store
from bot.store.faults import store_fault
from bot.store.lock import running_alone
from bot.store.migrations import migrations

RUNNING = "stop it first (systemctl stop rotation-bot, or Ctrl-C in its terminal), then restore"


@dataclass(frozen=True)
class Restored:
    source: Path
    kept: Path | None  # the store as it was, or None when there was none
    alerts: int
    pending: int  # outbox rows still to send: the bot sends them, as after any restart
    last_price: str | None


def restore_backup(store: Path, source: Path) -> Restored:
    """Replace the store at ``store`` with the backup ``source``; raises StoreError, touching nothing, when
    the backup is not one or a bot runs on the store."""
    staged = store.with_name(store.name + ".restoring")
    kept = store.with_name(store.name + ".before-restore")
    if not source.is_file():
        raise StoreError(f"{source} is not a file: give a backup that rotation-bot backup wrote")
    for own in (store, staged):
        with contextlib.suppress(OSError):
            if os.path.samefile(source, own):
                raise StoreError(f"{source} is the store itself ({own}): give a backup of it")
    with running_alone(store, RUNNING):
        try:
            _stage(source, staged)
            restored = _checked(staged, source)
            had_store = store.exists() and store.stat().st_size > 0
            sound = had_store and _sound(store)
            if had_store:
                _keep(store, kept, sound)
            _write_into(store, staged, sound)
        except (sqlite3.Error, OSError) as exc:
            raise store_fault(store, exc) from None
        finally:
            _remove(staged)
        Store(store).close()  # a backup of an older release is migrated now, inside the lock
    return Restored(source, kept if had_store else None, *restored)


def _stage(source: Path, staged: Path) -> None:
    """A copy of the backup beside the store: the backup itself is never opened for writing."""
    _remove(staged)
    try:
        shutil.copyfile(source, staged)
        if Path(f"{source}-wal").is_file():  # a copy taken by hand of a store in use
            shutil.copyfile(f"{source}-wal", f"{staged}-wal")
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == source:
            raise StoreError(f"cannot read {source}: {exc.strerror}; nothing was changed") from None
        raise


def _checked(staged: Path, source: Path) -> tuple[int, int, str | None]:
    """(alerts, pending sends, last price day) of a sound rotation-bot store, else StoreError naming ``source``."""
    try:
        conn = sqlite3.connect(staged)
    except sqlite3.Error as exc:
        raise StoreError(f"{source} cannot be read ({exc})") from None
    try:
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc):
                raise StoreError(f"{source} is damaged ({exc}): give an earlier backup; nothing was changed") from None
            what = f"{source} is not a SQLite database ({exc})"
            raise StoreError(f"{what}: give a backup that rotation-bot backup wrote; nothing was changed") from None
        if problems != ["ok"]:
            raise StoreError(f"{source} is damaged ({problems[0]}): give an earlier backup; nothing was changed")
        try:
            rows = conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name]
            ).fetchall()
        except sqlite3.OperationalError:
            rows = []
        names = {r[0] for r in rows}
        if not names:
            raise StoreError(f"{source} is a SQLite file but not a rotation-bot store: nothing was changed")
        ours = {m.name for m in migrations.pending(Database(memory=True))}
        if names - ours:
            newer = ", ".join(sorted(names - ours))
            raise StoreError(
                f"{source} was written by a newer rotation-bot (its schema has {newer}): "
                "update this checkout first (git pull, make setup); nothing was changed"
            )
        alerts = int(conn.execute("SELECT count(*) FROM alerts").fetchone()[0])
        pending = int(conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
        last = conn.execute("SELECT max(date) FROM prices").fetchone()[0]
    finally:
        conn.close()
    return alerts, pending, last


def _sound(store: Path) -> bool:
    try:
        conn = connect_read_only(store)
    except StoreError:
        return False
    try:
        return [r[0] for r in conn.execute("PRAGMA quick_check(1)").fetchall()] == ["ok"]
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _keep(store: Path, kept: Path, sound: bool) -> None:
    """The store as it was, beside it: a consistent copy when it reads, else its raw files for ``.recover``."""
    _remove(kept)
    if sound:
        source = connect_read_only(store)
        try:
            copy_database(source, kept)
        finally:
            source.close()
        return
    shutil.copyfile(store, kept)
    if Path(f"{store}-wal").is_file():
        shutil.copyfile(f"{store}-wal", f"{kept}-wal")


def _write_into(store: Path, staged: Path, sound: bool) -> None:
    source = sqlite3.connect(staged)
    try:
        if not sound:  # SQLite writes nothing into a damaged file: empty it, keeping its inode (and the lock)
            for stale in (Path(f"{store}-wal"), Path(f"{store}-shm"), Path(f"{store}-journal")):
                _remove(stale)
            os.truncate(store, 0)
        target = sqlite3.connect(store)
        try:
            target.execute("PRAGMA busy_timeout=5000")
            same_pages = sound and _page_size(target) == _page_size(source)
            if sound and not same_pages:  # SQLite copies into a WAL store only at its own page size
                target.execute("PRAGMA journal_mode=DELETE")
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
    finally:
        source.close()


def _page_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA page_size").fetchone()[0])


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
