"""What a store fault means, in one line: a corrupt file, a read-only file or a full disk.

SQLite reports these as ``sqlite3`` exceptions deep inside whatever was writing; the user needs
the file and what to do about it. Every write runs in a transaction, so a fault leaves the store
as it was before the command: the message can promise that nothing was half-written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.errors import StoreError

CORRUPT = ("file is not a database", "malformed", "disk image", "unsupported file format")
READ_ONLY = ("readonly", "read-only", "unable to open database file", "permission denied", "query_only")
FULL = ("database or disk is full", "disk full", "no space left")


def store_fault(path: Path, exc: BaseException) -> StoreError:
    """The one-line error for a sqlite3 (or OS) error raised while using the store at ``path``."""
    text = str(exc)
    low = text.lower()
    if any(k in low for k in CORRUPT):
        return StoreError(
            f"the store {path} is corrupt ({text}): recover it with `sqlite3 {path} .recover | "
            f"sqlite3 {path.with_suffix('.recovered.sqlite')}` and point [store] path there, or restore a backup"
        )
    if any(k in low for k in FULL):
        return StoreError(
            f"the disk holding the store {path} is full ({text}): free some space and run again; "
            "nothing was half-written"
        )
    if any(k in low for k in READ_ONLY):
        return StoreError(
            f"the store {path} is read-only ({text}): make the file and its folder writable "
            "by this user, then run again; nothing was half-written"
        )
    return StoreError(f"the store {path} failed: {text}")


FAULTS = (sqlite3.Error, OSError)
