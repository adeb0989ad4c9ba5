"""Backups of the store: the store as of one commit (never half a fetch or a delivery), one self-contained file,
checked, the last N kept; a backup killed midway or a store gone bad never costs a good backup."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.store import outbox
from bot.store.backup import backups_of, take_backup
from bot.store.db import Store
from tests.support.factories import price_frame
from tests.support.faultkit import corrupt_in_the_middle

T0 = dt.datetime(2024, 7, 17, 21, 30, tzinfo=dt.UTC)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_backup_during_a_fetch_and_a_delivery_holds_what_was_committed_and_nothing_half_written(
    store: Store, tmp_path: Path
) -> None:
    store.upsert_prices("AAA", price_frame([1.0, 2.0, 3.0]))
    outbox.queue_text(store, "k1", 111, "first")
    outbox.queue_text(store, "k2", 111, "second")
    first, second = (r.id for r in outbox.pending_rows(store))
    outbox.mark_sent(store, first)  # the delivery has sent one row and committed that
    with store.transaction():  # a fetch midway: its rows are written, not yet committed
        store.upsert_prices("BBB", price_frame([5.0] * 300))
        taken = take_backup(store.path, tmp_path / "backups", keep=3, now=T0)
    copy = taken.path
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file: nothing beside it to lose
    assert not Path(f"{copy}-wal").exists()
    assert rows(copy, "SELECT DISTINCT symbol FROM prices") == [("AAA",)]
    assert rows(copy, "SELECT id, status FROM outbox ORDER BY id") == [(first, "sent"), (second, "pending")]
    reopened = Store(copy)  # it opens as a store, migrations and all
    assert reopened.count_prices() == 3
    reopened.close()
    assert take_backup(store.path, tmp_path / "backups", keep=3, now=T0 + dt.timedelta(1)).path != copy
    newest = backups_of(store.path, tmp_path / "backups")[-1]
    assert rows(newest, "SELECT count(*) FROM prices") == [(303,)]  # the fetch, once committed


def test_backups_taken_while_a_writer_commits_are_each_one_commit_of_it(store: Store, tmp_path: Path) -> None:
    """Each transaction adds the next number: a copy as of one commit holds 1..k, with no gap and no half step."""
    store.db.execute("CREATE TABLE seq (n INTEGER PRIMARY KEY, pad TEXT)")
    done = threading.Event()

    def writer() -> None:
        s = Store(store.path)
        try:
            for n in range(1, 401):
                with s.transaction():
                    s.db.execute("INSERT INTO seq VALUES (?, ?)", [n, "x" * 2000])
                    s.db.execute("INSERT INTO meta VALUES (?, ?)", [f"seq{n}", str(n)])
        finally:
            s.close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[int] = []
    i = 0
    while not done.is_set() or not seen:
        i += 1
        taken = take_backup(store.path, tmp_path / "b", keep=2, now=T0 + dt.timedelta(seconds=i))
        numbers = [r[0] for r in rows(taken.path, "SELECT n FROM seq ORDER BY n")]
        metas = rows(taken.path, "SELECT count(*) FROM meta WHERE key LIKE 'seq%'")[0][0]
        assert numbers == list(range(1, len(numbers) + 1)) and metas == len(numbers)
        seen.append(len(numbers))
    thread.join()
    assert len(backups_of(store.path, tmp_path / "b")) == min(2, len(seen))


def test_the_last_n_are_kept_and_nothing_else_in_the_folder_is_touched(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "test-by-hand.sqlite").write_text("mine too")
    names = []
    for i in range(5):
        taken = take_backup(store.path, folder, keep=3, now=T0 + dt.timedelta(days=i))
        names.append(taken.path.name)
    assert names[0] == "test-20240717T213000Z.sqlite"
    assert [p.name for p in backups_of(store.path, folder)] == names[2:]
    assert sorted(p.name for p in folder.iterdir()) == sorted([*names[2:], "notes.txt", "test-by-hand.sqlite"])
    # Two in one second get -2, never overwrite; a clock set back never removes the backup just taken.
    again = take_backup(store.path, folder, keep=3, now=T0 + dt.timedelta(days=4))
    assert again.path.name == "test-20240721T213000Z-2.sqlite"
    past = take_backup(store.path, folder, keep=2, now=T0 - dt.timedelta(days=365))
    assert past.path.exists() and len(backups_of(store.path, folder)) == 2


def test_a_backup_killed_midway_leaves_no_backup_and_is_cleared_by_the_next(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    dead = folder / ".test-20240101T000000Z.sqlite.4711.partial"  # kill -9 left it: nobody holds its lock
    dead.write_bytes(b"SQLite format 3\0half")
    Path(f"{dead}-journal").write_bytes(b"x")
    live = folder / ".test-20240101T000001Z.sqlite.4712.partial"  # another backup writing now
    live.write_bytes(b"")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert backups_of(store.path, folder) == []  # a partial is never taken for a backup
        take_backup(store.path, folder, keep=3, now=T0)
        assert not dead.exists() and not Path(f"{dead}-journal").exists()
        assert live.exists()
    finally:
        os.close(fd)


def test_a_damaged_store_is_refused_and_the_good_backups_stay(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    s = Store(path)
    s.upsert_prices("AAA", price_frame([float(x) for x in range(1, 2000)], start="2010-01-04"))
    s.close()
    folder = tmp_path / "backups"
    good = [take_backup(path, folder, keep=2, now=T0 + dt.timedelta(days=i)).path for i in range(2)]
    corrupt_in_the_middle(path)  # a page in the middle gone bad (a fixed scribble: random bytes may read as rows)
    with pytest.raises(StoreError) as caught:
        take_backup(path, folder, keep=2, now=T0 + dt.timedelta(days=5))
    assert f"the store {path} is corrupt (" in str(caught.value)
    assert "no backup was taken and the earlier ones are kept" in str(caught.value)
    assert backups_of(path, folder) == good
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_no_store_and_a_folder_that_is_a_file_are_one_line_each(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"there is no store at .*: nothing to back up"):
        take_backup(tmp_path / "none.sqlite", tmp_path / "b", keep=1)
    assert not (tmp_path / "none.sqlite").exists()  # a backup never creates a store
    Store(tmp_path / "s.sqlite").close()
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError) as caught:
        take_backup(tmp_path / "s.sqlite", tmp_path / "file", keep=1)
    assert str(caught.value) == f"the backup folder {tmp_path / 'file'} is a file, not a folder: give a folder"
