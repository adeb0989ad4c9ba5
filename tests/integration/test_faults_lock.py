"""The run lock under the paths and disks a server really has: a second path to the same store (symlink, hard
link, symlinked folder) still meets the first bot; a read-only or full disk is one line, never a traceback.

The read-only and full disks are real: a small tmpfs mounted in a private mount namespace (``unshare -m``, so the
mount vanishes with the test's shell). Where that is not allowed, the same errors are injected at the OS calls.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.support.console_bot import first_bot_on, small_bot_config, start_console
from tests.support.paths import REPO


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return small_bot_config(tmp_path)


@pytest.fixture
def first_bot(config: Path) -> Iterator[subprocess.Popen[str]]:
    yield from first_bot_on(config)


def second_path(kind: str, store: Path, elsewhere: Path) -> Path:
    """Another way to write the path of ``store``."""
    elsewhere.mkdir()
    if kind == "symlink":
        (elsewhere / "link.sqlite").symlink_to(store)
        return elsewhere / "link.sqlite"
    if kind == "hard link":
        os.link(store, elsewhere / "other.sqlite")
        return elsewhere / "other.sqlite"
    (elsewhere / "folder").symlink_to(store.parent, target_is_directory=True)
    return elsewhere / "folder" / store.name


@pytest.mark.parametrize("kind", ["symlink", "hard link", "symlinked folder"])
def test_a_second_path_to_the_same_store_meets_the_first_bot(
    config: Path, first_bot: subprocess.Popen[str], tmp_path: Path, kind: str
) -> None:
    """Through a symlink two bots ran on one store and 14 of 15 alerts arrived twice."""
    store = config.parent / "s.sqlite"
    other = second_path(kind, store, tmp_path / "elsewhere")
    other_config = tmp_path / "elsewhere" / "config.toml"
    other_config.write_text(config.read_text().replace(str(store), str(other)))
    second = start_console(other_config)
    out, err = second.communicate(input="/help\n", timeout=60)
    assert second.returncode == 1, out
    [line] = err.strip().splitlines()
    assert line.startswith(f"Error: another rotation-bot is already running on the store {other} ")
    assert f"pid {first_bot.pid}): " in line and line.endswith("stop it first, or give this one its own [store] path")
    assert out == ""


# --- a read-only or full disk ---------------------------------------------------------------------


def cli(config: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def refuse(monkeypatch: pytest.MonkeyPatch, name: str, code: int, where: Callable[[Any], bool]) -> None:
    """Make ``os.<name>`` fail with ``code`` for the calls ``where`` picks, as the disk would."""
    real = getattr(os, name)

    def failing(target: Any, *args: Any, **kwargs: Any) -> Any:
        if where(target):
            raise OSError(code, os.strerror(code), *([str(target)] if isinstance(target, str | Path) else []))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(os, name, failing)


def test_a_read_only_disk_at_the_lock_is_one_line(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = config.parent / "s.sqlite"
    refuse(monkeypatch, "open", errno.EROFS, lambda target: str(target).startswith(str(config.parent)))
    code, err = cli(config, "run", "--console", stdin="/rules\n")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"Error: the store {store} is on a read-only file system (Read-only file system: ")
    assert line.endswith("remount it read-write, or point [store] path at a writable disk; then run again"), line


def test_a_full_disk_at_the_lock_is_one_line(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = config.parent / "s.sqlite"

    def in_folder(fd: int) -> bool:
        return os.readlink(f"/proc/self/fd/{fd}").startswith(str(config.parent))

    refuse(monkeypatch, "write", errno.ENOSPC, in_folder)
    refuse(monkeypatch, "pwrite", errno.ENOSPC, in_folder)
    code, err = cli(config, "run", "--console", stdin="/rules\n")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"Error: the disk holding the store {store} is full (No space left on device")
    assert line.endswith("free some space and run again; nothing was half-written"), line


# --- the same on a real tmpfs ---------------------------------------------------------------------

MOUNTED = """
set -e
mount -t tmpfs -o size=1m tmpfs "$DIR"
cp "$SRC/s.sqlite" "$DIR/s.sqlite"
sed "s#$SRC/s.sqlite#$DIR/s.sqlite#" "$SRC/config.toml" > "$DIR/config.toml"
if [ "$MODE" = ro ]; then mount -o remount,ro "$DIR"; else dd if=/dev/zero of="$DIR/fill" bs=4k 2>/dev/null || true; fi
set +e
for cmd in "run --console" "status" "check"; do
    echo /rules | "$PY" -m bot --config "$DIR/config.toml" $cmd 2>&1
    echo "exit $?"
done
"""


def on_tmpfs(config: Path, mode: str) -> list[str]:
    """Run, status and check on a copy of the store on a tmpfs that is read-only or has no byte free."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("a private tmpfs needs unshare and root")
    mnt = config.parent / "mnt"
    mnt.mkdir()
    env = {**os.environ, "DIR": str(mnt), "SRC": str(config.parent), "MODE": mode, "PY": sys.executable}
    env["TELEGRAM_BOT_TOKEN"] = ""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here")
    done = subprocess.run(["unshare", "-m", "sh", "-c", MOUNTED], env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_every_command_on_a_read_only_disk_says_so(config: Path) -> None:
    store = config.parent / "mnt" / "s.sqlite"
    lines = on_tmpfs(config, "ro")
    assert lines[1::2] == ["exit 1"] * 3, lines
    for line in lines[0::2]:
        assert line.startswith(f"Error: the store {store} is on a read-only file system ("), lines
        assert "Traceback" not in line and line.endswith("; then run again"), lines


def test_every_command_on_a_full_disk_says_full_not_disk_io_error(config: Path) -> None:
    store = config.parent / "mnt" / "s.sqlite"
    lines = on_tmpfs(config, "full")
    assert lines[1::2] == ["exit 1"] * 3, lines
    for line in lines[0::2]:
        assert line.startswith(f"Error: the disk holding the store {store} is full ("), lines
        assert line.endswith("free some space and run again; nothing was half-written"), lines
