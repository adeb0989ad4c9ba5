"""What a store fault says is its true cause: the disk is asked when SQLite's words are vague."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from bot.store.faults import store_fault


def disk(monkeypatch: pytest.MonkeyPatch, free_blocks: int, read_only: bool = False) -> None:
    real = os.statvfs(Path.cwd())

    class Disk:
        f_frsize, f_bfree, f_bavail = 4096, free_blocks, free_blocks
        f_flag = real.f_flag | os.ST_RDONLY if read_only else real.f_flag & ~os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: Disk())


def test_a_disk_io_error_with_no_byte_free_is_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk(monkeypatch, free_blocks=0)
    fault = store_fault(tmp_path / "s.sqlite", sqlite3.OperationalError("disk I/O error"))
    assert str(fault).startswith(f"the disk holding the store {tmp_path / 's.sqlite'} is full (disk I/O error)")


def test_a_disk_io_error_with_room_left_stays_what_sqlite_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk(monkeypatch, free_blocks=10**6)
    fault = store_fault(tmp_path / "s.sqlite", sqlite3.OperationalError("disk I/O error"))
    assert str(fault) == f"the store {tmp_path / 's.sqlite'} failed: disk I/O error"


def test_cannot_open_on_a_read_only_mount_names_the_mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk(monkeypatch, free_blocks=0, read_only=True)
    fault = store_fault(tmp_path / "s.sqlite", sqlite3.OperationalError("unable to open database file"))
    assert "is on a read-only file system (unable to open database file): remount it read-write" in str(fault)


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "is on a read-only file system"), (errno.ENOSPC, "is full"), (errno.EACCES, "is read-only")],
)
def test_an_os_error_is_read_by_its_errno(tmp_path: Path, code: int, words: str) -> None:
    fault = store_fault(tmp_path / "s.sqlite", OSError(code, os.strerror(code), str(tmp_path / "s.sqlite.lock")))
    assert words in str(fault) and f"{os.strerror(code)}: {tmp_path / 's.sqlite.lock'}" in str(fault)
