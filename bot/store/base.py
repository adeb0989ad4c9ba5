"""The store's connection: opening the file (WAL, migrations), the meta table, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bot.errors import StoreError
from bot.store.faults import FAULTS, corrupt_store, store_fault
from bot.store.migrations import migrations


def iso(moment: dt.datetime) -> str:
    """Timestamps as the store writes them (UTC, seconds), so string order is time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def utcnow() -> str:
    return iso(dt.datetime.now(dt.UTC))


class _Database(Database):
    """sqlite-utils' database whose transactions take the write lock when they begin (``BEGIN IMMEDIATE``).

    A deferred transaction that has read cannot write once another process committed since: SQLite answers
    "database is locked" at once, without waiting out the busy timeout (a ``check`` beside a ``fetch`` failed
    the fetch this way). Taken first, the lock makes the other process wait its turn instead.
    """

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:  # nested: sqlite-utils' savepoint
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


class StoreBase:
    """An open SQLite file with the schema migrated; the tables' methods build on it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if "\0" in str(path):
            raise StoreError(f"the store path {str(path)!r} holds a NUL character: no file can have that name")
        if self.path.is_dir():
            raise StoreError(
                f"the store {self.path} is a folder, not a file: point [store] path at a file in it,"
                f" such as {self.path / 'rotation-bot.sqlite'}"
            )
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the store {self.path}: {exc}") from exc
        try:
            self.db: Database = _Database(str(path))
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            migrations.apply(self.db)
        except FAULTS as exc:  # a corrupt or foreign file, a read-only file, a full disk
            raise store_fault(self.path, exc) from None

    def integrity(self) -> list[str]:
        """SQLite's quick check: [] when the file is sound, else what is wrong (first lines)."""
        rows = [r[0] for r in self.db.execute("PRAGMA quick_check(5)").fetchall()]
        return [] if rows == ["ok"] else rows

    def ensure_sound(self) -> None:
        """Refuse a store corrupt in the middle: it opens, then every command reading the bad pages fails.

        ``run`` calls this once at start (a quick check reads every page: 0.2 s for the 80 MB of 500 symbols over
        16 years), so the bot says what ``status`` says instead of answering commands with errors for days.
        """
        try:
            problems = self.integrity()
        except FAULTS as exc:
            raise store_fault(self.path, exc) from None
        if problems:  # the first problem is enough to act on; the header line says nothing
            lines = [line for row in problems for line in str(row).splitlines() if not line.startswith("***")]
            raise corrupt_store(self.path, "database disk image is malformed" + (f": {lines[0]}" if lines else ""))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # --- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.table("meta").upsert({"key": key, "value": value}, pk="key")

    def data_version(self) -> int:
        return int(self.get_meta("data_version", "0") or 0)

    def _bump_data_version(self) -> None:
        """One statement, no read: a fetch of 503 symbols calls this once per symbol."""
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key)"
            " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
        )
