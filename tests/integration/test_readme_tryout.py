"""The README's offline try-out, pasted into a fresh clone, shows the July 2024 alerts; its console output is
the real one (only the random chart file names differ)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Try it offline") : README.index("## Configuration")]
CHART_NAME = re.compile(r"chart-[^/\s\]]+\.png")


def _blocks() -> list[str]:
    return re.findall(r"```(?:sh)?\n(.*?)```", SECTION, flags=re.S)


def _run(line: str, cwd: Path) -> str:
    stdin = None
    if "|" in line:
        left, line = (part.strip() for part in line.split("|", 1))
        stdin = shlex.split(left.removeprefix("echo"))[0] + "\n"
    args = shlex.split(line)
    assert args[0] == ".venv/bin/rotation-bot", line
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args[1:]], cwd=cwd, input=stdin, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_try_out_shows_the_july_2024_alerts_as_the_readme_says(real_store_copy: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    (clone / "data").mkdir(parents=True)
    (clone / "config.toml").write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    real_store_copy.rename(clone / "data" / "rotation-bot.sqlite")  # what the block's `fetch` loads
    commands, shown = _blocks()[0], _blocks()[1]
    outputs: list[tuple[str, str]] = []
    for raw in commands.splitlines():
        line = raw.split("  #", 1)[0].strip()
        if not line or line.startswith("make ") or " fetch " in line:
            continue
        outputs.append((line, _run(line, clone)))
    checks = [out for line, out in outputs if " check " in line]
    assert checks[0].rstrip().endswith("No new alerts.")  # the first check of a store warms up
    assert "2024-07-17 [rut-spx-above-0.4] Small caps gaining" in checks[1]
    assert "2024-07-18 [breadth-above-75] Broad rally: 76.4%" in checks[1]
    console = next(out for line, out in reversed(outputs) if "--console" in line)
    assert (
        "🔔 rut-spx-above-0.4\nSmall caps gaining: Russell 2000 / S&P 500 at 0.401, above 0.4\nFired 6× since 1987"
        in console
    )
    # the track-record line as of the alert's day: 2024-07-17's own firing is not yet an outcome
    assert "after 4 of 5 firings (80%); on any day: 47% — too few firings to tell" in console
    assert "\n📅 2024-07-17\n" in console
    assert CHART_NAME.sub("chart-….png", console).strip() == CHART_NAME.sub("chart-….png", shown).strip()
