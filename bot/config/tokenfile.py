"""Reading the bot token from ``[telegram] token_file``: a short regular file, read a few hundred bytes at most.

A token is about 46 characters. A path to ``/dev/zero`` or a log file would otherwise be read whole into memory
(3.8 GB in 3 s, then a MemoryError), and a FIFO would block the start until something wrote to it; so the file is
opened without blocking, must be a regular file, and only its first ``MAX_BYTES`` are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.errors import ConfigFileError

MAX_BYTES = 512  # a token and its newline ten times over


def read_token_file(path: Path, where: str) -> str:
    """The file's text, or one line naming ``where`` and why it cannot be the token (never its bytes)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigFileError(f"cannot read {where}: {exc.strerror}") from None
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise ConfigFileError(f"{where} is {kind}, not a regular file: point it at a file holding just the token")
        try:
            data = os.read(fd, MAX_BYTES + 1)
        except OSError as exc:
            raise ConfigFileError(f"cannot read {where}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise ConfigFileError(
            f"{where} is longer than {MAX_BYTES} bytes: a token file holds just the token "
            "(about 46 characters, like 123456789:AAH…)"
        )
    try:
        text = data.decode("utf-8-sig")  # a Windows editor starts a UTF-8 file with a BOM
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"{where} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): "
            "a token file holds just the token, as @BotFather gave it"
        ) from None
    if not text.strip():  # named on purpose, so not the console mode an unset environment variable means
        raise ConfigFileError(f"{where} is empty: put the bot's token from @BotFather in it (run --console needs none)")
    return text


def _kind(mode: int) -> str | None:
    """What a path that is no regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
