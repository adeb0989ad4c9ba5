"""Reading config.toml as bytes (an edit must know exactly what it replaces) and replacing it so that a crash
at any instant leaves the old version or the new one, never a mix: the new bytes go to a temp file in the same
folder, are flushed to disk, then renamed over the file.

A crash before the rename leaves a ``.NAME.*.tmp`` beside the file; the next write clears it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.errors import ConfigFileError


def digest(data: bytes) -> str:
    """The sha256 of the file's bytes: what an edit replaces, what an edit record names, what reload polls."""
    return hashlib.sha256(data).hexdigest()


def read_config_text(path: Path) -> tuple[bytes, str]:
    """The file's bytes and its text (a UTF-8 BOM kept in the bytes only), with load_config's errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: no such config file (copy config.toml from the repository)") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read config: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None
    return data, text.removeprefix("\ufeff")


def temp_files(path: Path) -> list[Path]:
    """Temp files of ``path`` that an interrupted write left behind."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def write_atomic(path: Path, data: bytes, checkpoint: Callable[[str], None] | None = None) -> None:
    """Write ``data`` to ``path`` atomically, keeping its permission bits.

    ``checkpoint`` is called after the temp file is on disk ("temp written") and after the rename
    ("replaced"): a test stops the process there.
    """
    for stray in temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            stray.unlink()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if checkpoint:
            checkpoint("temp written")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if checkpoint:
        checkpoint("replaced")
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself reaches the disk
    finally:
        os.close(dir_fd)
