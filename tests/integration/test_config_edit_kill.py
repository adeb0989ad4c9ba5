"""kill -9 in the middle of writing config.toml: the file is the old or the new version, never a mix,
and the temp file the crash left is cleared by the next write. Killed between the rename and recording
the edit, the edit is recorded at the next start or edit command (its intent was written first)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config.edit import Edit, apply, preview
from bot.config.settings import load_config
from tests.support.paths import REPO

CHILD = """
import os, signal, sys
from pathlib import Path
import bot.config.edit as edit

path, stage = Path(sys.argv[1]), sys.argv[2]
p = edit.preview(path, edit.Edit.set("rut-spx-above-0.4", "threshold", "0.42"))
Path(sys.argv[3]).write_text(p.new_text)

def crash(point: str) -> None:
    if point == stage:
        os.kill(os.getpid(), signal.SIGKILL)

edit.crash_point = crash
edit.apply(path, p)
"""


@pytest.mark.parametrize(("stage", "survivor"), [("temp written", "old"), ("replaced", "new")])
def test_a_write_killed_midway_leaves_the_old_or_the_new_file(tmp_path: Path, stage: str, survivor: str) -> None:
    cfg = tmp_path / "config.toml"
    shutil.copy(REPO / "config.toml", cfg)
    old = cfg.read_bytes()
    new_file = tmp_path / "new.txt"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(cfg), stage, str(new_file)], cwd=REPO, capture_output=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    new = new_file.read_bytes()
    assert cfg.read_bytes() == (old if survivor == "old" else new)
    load_config(cfg)  # whole and valid either way
    strays = sorted(p.name for p in tmp_path.glob(".config.toml.*.tmp"))
    assert len(strays) == (1 if stage == "temp written" else 0)
    # the next write clears what the crash left
    p = preview(cfg, Edit.set("breadth-above-75", "cooldown_days", "45"))
    apply(cfg, p)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "new.txt"]
    assert cfg.read_text() == p.new_text


# --- kill -9 between writing config.toml and recording the edit -----------------------------------

CLI_CHILD = """
import os, signal, sys
import bot.config.edit as edit
from bot.cli import main

def crash(point: str) -> None:
    if point == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

edit.crash_point = crash
main(["--config", sys.argv[1], "rules", "set", "rut-spx-above-0.4", "threshold", "0.38"])
"""


def cli(cfg: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(cfg), *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def killed_rules_set(tmp_path: Path, stage: str) -> tuple[Path, bytes]:
    """`rules set … threshold 0.38` on the shipped config, killed at ``stage`` of writing the file."""
    cfg = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text()
    cfg.write_text(text.replace('path = "data/rotation-bot.sqlite"', f'path = "{tmp_path / "s.sqlite"}"', 1))
    old = cfg.read_bytes()
    child = subprocess.run(
        [sys.executable, "-c", CLI_CHILD, str(cfg), stage], cwd=REPO, capture_output=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    return cfg, old


def notice(cfg: Path, how: str) -> None:
    """What comes after the crash and finds the unrecorded edit: a restart, or an edit command."""
    if how == "start":
        code, out = cli(cfg, "run", "--console", stdin="")
    else:
        code, out = cli(cfg, "rules", "history")
    assert code == 0, out


@pytest.mark.parametrize("how", ["start", "history"])
def test_an_edit_killed_after_the_rename_is_recorded_next_time_and_undone(tmp_path: Path, how: str) -> None:
    """History used to lack the edit for good: undo refused, and named the old value "(not set)"."""
    cfg, old = killed_rules_set(tmp_path, "replaced")
    assert b"threshold = 0.38" in cfg.read_bytes()
    notice(cfg, how)
    code, out = cli(cfg, "rules", "history")
    assert code == 0 and out.startswith("#1 "), out
    assert 'by command line: rule "rut-spx-above-0.4": threshold 0.4 → 0.38\n' in out.splitlines(keepends=True)[0]
    assert "-threshold = 0.4\n" in out and "+threshold = 0.38\n" in out
    code, out = cli(cfg, "rules", "undo")
    assert code == 0, out
    assert 'Undid edit #1 (rule "rut-spx-above-0.4": threshold 0.4 → 0.38).' in out
    assert cfg.read_bytes() == old


def test_an_edit_killed_before_the_rename_is_forgotten(tmp_path: Path) -> None:
    cfg, old = killed_rules_set(tmp_path, "temp written")
    assert cfg.read_bytes() == old
    code, out = cli(cfg, "rules", "undo")
    assert code == 1 and "no edit to undo" in out, out
    assert cli(cfg, "rules", "history") == (0, "No edits recorded.\n")
    code, out = cli(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.39")
    assert code == 0 and "(edit #1;" in out, out
