"""One running bot per store: a lock held for the life of ``rotation-bot run``.

Two ``run`` processes on one store (a second systemd unit, a forgotten terminal) would both poll
the outbox and deliver every alert twice. The lock is ``flock`` on the store file itself, so every
path that reaches it — a symlink, a hard link, a symlinked or bind-mounted folder — meets the same
lock (it belongs to the inode, not to the name). The operating system releases it when the process
ends, however it ends (kill -9 included), so a crash never blocks a restart. SQLite locks with
``fcntl``, which ``flock`` does not touch. The holder's pid goes to ``NAME.lock`` beside the file's
real path, for the message a second bot prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StoreError
from bot.store.faults import store_fault


def lock_path(store: Path) -> Path:
    """The file naming the running bot's pid: beside the store's real path, whatever path the config gives."""
    real = Path(os.path.realpath(store))
    return real.with_name(real.name + ".lock")


ALONE = "stop it first, or give this one its own [store] path"


@contextlib.contextmanager
def running_alone(store: Path, hint: str = ALONE) -> Iterator[None]:
    """Hold the store's run lock, or raise StoreError naming the process that holds it (then ``hint``).

    A disk that cannot be written (read-only, full) is the store's one-line fault, as when SQLite meets it.
    Close the store before leaving: closing this descriptor drops the process's ``fcntl`` locks on the file.
    """
    if str(store) == ":memory:":
        yield
        return
    real = Path(os.path.realpath(store))
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        # Read-only is enough for flock; a missing store is created empty (SQLite takes an empty file as new).
        fd = os.open(real, os.O_RDONLY) if real.exists() else os.open(real, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise store_fault(store, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            same = "" if real == Path(os.path.abspath(store)) else f"the file {real}, "
            raise StoreError(
                f"another rotation-bot is already running on the store {store} ({same}pid {_holder(fd, store)}): {hint}"
            ) from None
        try:
            _write_pid(lock_path(store))
        except OSError as exc:  # a write's error names no file: name the pid file
            raise store_fault(store, OSError(exc.errno, exc.strerror, exc.filename or str(lock_path(store)))) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _write_pid(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    finally:
        os.close(fd)


def _holder(fd: int, store: Path) -> str:
    """The pid holding the flock on ``fd``'s file: the kernel's lock table knows it even through a hard link
    (whose pid file has another name); elsewhere the pid file says it."""
    st = os.fstat(fd)
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == where and fields[4] != "0":
                return fields[4]
    with contextlib.suppress(OSError):
        return lock_path(store).read_text().strip() or "unknown"
    return "unknown"
