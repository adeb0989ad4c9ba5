"""Backups of the store: a consistent copy taken while the bot runs, checked, the last N kept.

The copy is SQLite's online backup API in one step: one read transaction, so the copy is the store as
of one commit, never half a fetch or half a delivery, and in WAL mode writers go on meanwhile. It is
written under a hidden ``.partial`` name, switched to a single self-contained file (rollback journal,
no ``-wal`` beside it), checked with ``PRAGMA integrity_check`` and flushed to disk before it gets its
real name: a crash or a full disk leaves no file that looks like a backup and is not one. Only then are
backups beyond the last ``keep`` removed, so a store gone bad never pushes out the good copies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import pathname2url

from bot.errors import StoreError
from bot.store.faults import corrupt_store, is_corrupt, store_fault

STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    seconds: float
    removed: list[Path] = field(default_factory=list)


def backup_name(store: Path, when: dt.datetime, n: int = 1) -> str:
    """``rotation-bot-20240717T213000Z.sqlite``: the store's name and the UTC time, so names sort as times."""
    suffix = "" if n == 1 else f"-{n}"
    return f"{store.stem}-{when.astimezone(dt.UTC).strftime(STAMP)}{suffix}.sqlite"


def backups_of(store: Path, folder: Path) -> list[Path]:
    """The backups of ``store`` in ``folder``, oldest first (other files there are never touched)."""
    pattern = re.compile(re.escape(store.stem) + r"-(\d{8}T\d{6}Z)(?:-(\d+))?\.sqlite")
    found = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(folder):
            m = pattern.fullmatch(entry.name)
            if m and entry.is_file(follow_symlinks=False):
                found.append(((m[1], int(m[2] or 1)), Path(entry.path)))
    return [p for _, p in sorted(found)]


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can neither create ``path`` nor migrate it (a backup only reads); raises StoreError."""
    try:
        conn = sqlite3.connect(f"file:{pathname2url(str(path.absolute()))}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise store_fault(path, exc) from None
    return conn


def copy_database(source: sqlite3.Connection, dest: Path) -> list[str]:
    """Copy ``source`` into the new file ``dest`` in one step, as one self-contained file; returns what
    ``PRAGMA integrity_check`` finds wrong with the copy ([] when it is sound)."""
    target = sqlite3.connect(dest)
    try:
        source.backup(target)  # pages=-1: one read transaction, the store as of one commit
        target.execute("PRAGMA journal_mode=DELETE")  # the copied header says WAL: one file, no -wal
        problems = [str(r[0]) for r in target.execute("PRAGMA integrity_check(5)").fetchall()]
    finally:
        target.close()
    return [] if problems == ["ok"] else problems


def take_backup(store: Path, folder: Path, keep: int, now: dt.datetime | None = None) -> Backup:
    """Back ``store`` up into ``folder`` and keep its last ``keep`` backups there; raises StoreError."""
    started = time.monotonic()
    when = now or dt.datetime.now(dt.UTC)
    if not store.is_file():
        raise StoreError(f"there is no store at {store}: nothing to back up")
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"the backup folder {folder} is a file, not a folder: give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fault(folder, exc) from None
    _clear_abandoned(folder)
    partial = folder / f".{backup_name(store, when)}.{os.getpid()}.partial"
    source = connect_read_only(store)
    try:
        with _held(partial):
            try:
                problems = copy_database(source, partial)
            except sqlite3.Error as exc:
                if is_corrupt(exc):  # read from the store: its pages, not the backup's disk
                    raise _damaged(store, str(exc)) from None
                raise
            if problems:
                raise _damaged(store, f"database disk image is malformed: {problems[0]}")
            _flush(partial)
            final = _publish(partial, store, folder, when)
            _flush(folder)
    except (sqlite3.Error, OSError) as exc:
        raise _fault(folder, exc) from None
    finally:
        source.close()
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    removed = _prune(store, folder, keep, final)
    return Backup(final, final.stat().st_size, time.monotonic() - started, removed)


@contextlib.contextmanager
def _held(partial: Path) -> Iterator[None]:
    """A ``flock`` on the partial file while it is written: a later backup knows a live one from a dead one's."""
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _clear_abandoned(folder: Path) -> None:
    """Remove the partial files of backups killed midway (no process holds their lock any more)."""
    for path in folder.glob(".*.partial"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            for leftover in (path, path.with_name(path.name + "-journal")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        except BlockingIOError:
            pass  # another backup is writing it now
        finally:
            os.close(fd)


def _publish(partial: Path, store: Path, folder: Path, when: dt.datetime) -> Path:
    """Give the checked copy its name; a backup of the same second (a second process) gets ``-2``, never
    overwriting one (``link`` refuses an existing name where ``rename`` would replace it)."""
    for n in range(1, 1000):
        final = folder / backup_name(store, when, n)
        try:
            os.link(partial, final)
            return final
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP) or final.exists():
                raise
            os.replace(partial, final)  # a file system without hard links
            return final
    raise StoreError(f"the backup folder {folder} already holds 999 backups of this second")


def _prune(store: Path, folder: Path, keep: int, newest: Path) -> list[Path]:
    """Remove all but the last ``keep`` backups; the one just taken always stays (a clock set back)."""
    others = [p for p in backups_of(store, folder) if p != newest]
    doomed = others[: max(0, len(others) - (keep - 1))]
    for path in doomed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return doomed


def _flush(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _damaged(store: Path, text: str) -> StoreError:
    return StoreError(f"{corrupt_store(store, text)}; no backup was taken and the earlier ones are kept")


def _fault(where: Path, exc: BaseException) -> StoreError:
    text = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.filename else str(exc)
    if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "full" in text.lower():
        why = f"the disk is full ({text})"
    else:
        why = text
    return StoreError(f"cannot write the backup in {where}: {why}; the store is untouched and earlier backups kept")
