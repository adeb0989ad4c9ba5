"""kill -9 in the middle of writing config.toml: the file is the old or the new version, never a mix,
and the temp file the crash left is cleared by the next write."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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
