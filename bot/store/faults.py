"""What a store fault means, in one line: a corrupt file, a read-only file or a full disk.

SQLite reports these as ``sqlite3`` exceptions deep inside whatever was writing; the user needs
the file and what to do about it. Every write runs in a transaction, so a fault leaves the store
as it was before the command: the message can promise that nothing was half-written.

SQLite's words are not always the cause: with no byte free, opening the store's WAL index says
``disk I/O error``, and a read-only mount says ``unable to open database file``. So the disk is
asked too (``statvfs``), and an ``OSError`` (the run lock) is read by its errno.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StoreError

CORRUPT = ("file is not a database", "malformed", "disk image", "unsupported file format")
READ_ONLY = ("readonly", "read-only", "unable to open database file", "permission denied", "query_only")
FULL = ("database or disk is full", "disk full", "no space left")
IO = ("disk i/o error",)
NEARLY_FULL = 1 << 20  # bytes free under which a write error is the full disk's doing


def is_corrupt(exc: BaseException) -> bool:
    return any(k in str(exc).lower() for k in CORRUPT)


def corrupt_store(path: Path, text: str) -> StoreError:
    return StoreError(
        f"the store {path} is corrupt ({text}): recover it with `sqlite3 {path} .recover | "
        f"sqlite3 {path.with_suffix('.recovered.sqlite')}` and point [store] path there, "
        "or put a backup back with rotation-bot restore FILE"
    )


def _disk(path: Path) -> tuple[bool, int | None]:
    """(mounted read-only, bytes free to this user) for the disk holding ``path``; (False, None) if unknown."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return False, None
    blocks = st.f_bfree if os.geteuid() == 0 else st.f_bavail  # root may use the reserved blocks
    return bool(st.f_flag & os.ST_RDONLY), blocks * st.f_frsize


def store_fault(path: Path, exc: BaseException) -> StoreError:
    """The one-line error for a sqlite3 (or OS) error raised while using the store at ``path``."""
    code = exc.errno if isinstance(exc, OSError) else None
    text = str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    low = text.lower()
    if any(k in low for k in CORRUPT):
        return corrupt_store(path, text)
    # A read-only mount reports no byte free, so it is asked first.
    read_only, free = (code == errno.EROFS, None) if code is not None else _disk(path)
    cannot_write = code is None and any(k in low for k in IO + READ_ONLY)
    nearly_full = cannot_write and free is not None and free < NEARLY_FULL
    if code not in (errno.ENOSPC, errno.EDQUOT) and read_only and (code is not None or cannot_write):
        return StoreError(
            f"the store {path} is on a read-only file system ({text}): remount it read-write, or point "
            "[store] path at a writable disk; then run again"
        )
    if code in (errno.ENOSPC, errno.EDQUOT) or nearly_full or (code is None and any(k in low for k in FULL)):
        return StoreError(
            f"the disk holding the store {path} is full ({text}): free some space and run again; "
            "nothing was half-written"
        )
    if code in (errno.EACCES, errno.EPERM) or (code is None and any(k in low for k in READ_ONLY)):
        return StoreError(
            f"the store {path} is read-only ({text}): make the file and its folder writable "
            "by this user, then run again; nothing was half-written"
        )
    return StoreError(f"the store {path} failed: {text}")


FAULTS = (sqlite3.Error, OSError)

T = TypeVar("T")


def read_back(parse: Callable[[Any], T], value: Any) -> T:
    """``parse(value)`` for a value read from the store, where a failure means a page gone bad.

    Every value was checked on its way in, and SQLite keeps no checksum of its pages: a scribbled page can
    read back as text that is no date. That is the corruption SQLite itself reports, so it is raised as
    SQLite's error and answered as one (the way out, not a traceback).
    """
    try:
        return parse(value)
    except (TypeError, ValueError, OverflowError):
        raise sqlite3.DatabaseError(f"database disk image is malformed: a stored value reads {value!r:.60}") from None
