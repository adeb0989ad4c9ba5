"""One running bot per store: a lock held for the life of ``rotation-bot run``.

Two ``run`` processes on one store (a second systemd unit, a forgotten terminal) would both poll
the outbox and deliver every alert twice. ``flock`` on a file beside the store is released by the
operating system when the process ends, however it ends (kill -9 included), so a crash never
blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bot.errors import StoreError


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


@contextlib.contextmanager
def running_alone(store: Path) -> Iterator[None]:
    """Hold the store's run lock, or raise StoreError naming the process that holds it."""
    if str(store) == ":memory:":
        yield
        return
    path = lock_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise StoreError(
                f"another rotation-bot is already running on the store {store} (pid {holder}): "
                "stop it first, or give this one its own [store] path"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
