"""Whole-process start-up: the commands a user types, each timed as a separate process.

Every command runs ``RUNS`` times (rounds interleaved, so a noisy moment hits every command alike,
after one untimed run each to warm the file cache); a line reports the median against
``python -c pass`` with the same interpreter, timed in the same rounds. ``rotation-bot`` is run as
``python -m bot`` (what the console script calls), with a config file naming the benchmark's store.
The warm ``check`` runs on a copy of that store checked once before the timed runs; a second
baseline there, ``python -c "import pandas"``, shows how much of it is pandas' own import.
``python -X importtime -m bot --help`` must import none of HEAVY.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import common
from benchmarks.common import Result, env, fmt_time, report

RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "5"))
GOAL_HELP = 0.25
GOAL_CHECK = 0.5
GOAL_ROTATION = 2.0  # × a warm check, as whole processes
HEAVY = ("pandas", "numpy", "matplotlib", "telegram")


def _bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=common.REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} exited {out.returncode}: {out.stderr.strip()[-500:]}")
    return seconds


def imported(cmd: list[str]) -> set[str]:
    """Top-level packages ``cmd`` (a Python command line) imports, from ``-X importtime``'s stderr."""
    out = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], cwd=common.REPO, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} exited {out.returncode}: {out.stderr.strip()[-500:]}")
    # "import time: self [us] | cumulative | imported package"; nesting is indentation of the last field
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def heavy(cmd: list[str]) -> list[str]:
    found = imported(cmd)
    return [m for m in HEAVY if m in found]


def _listed(mods: list[str]) -> str:
    return ", ".join(mods) if mods else "none"


def run() -> Result:
    e = env()
    with tempfile.TemporaryDirectory(dir=common.work(), prefix="startup-") as tmp:
        store = Path(tmp) / "store.sqlite"
        common.copy_store(e.path, store)
        config = Path(tmp) / "config.toml"
        config.write_text(f"[store]\npath = {json.dumps(str(store))}\n", encoding="utf-8")
        cfg = ["--config", str(config)]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import pandas"': [sys.executable, "-c", "import pandas"],
            "rotation-bot --help": _bot("--help"),
            "rotation-bot rules list": _bot(*cfg, "rules", "list"),
            "rotation-bot rules check": _bot(*cfg, "rules", "check"),
            "rotation-bot check (warm)": _bot(*cfg, "check"),
            "rotation-bot rotation (warm)": _bot(*cfg, "rotation"),
        }
        for cmd in commands.values():  # untimed: file cache, .pyc files, and the store's first check
            _run(cmd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):
            for name, cmd in commands.items():
                times[name].append(_run(cmd))
        heavy_help = heavy(commands["rotation-bot --help"])
        heavy_list = heavy(commands["rotation-bot rules list"])
        heavy_rules = heavy(commands["rotation-bot rules check"])
    median = {name: statistics.median(ts) for name, ts in times.items()}
    base = median["python -c pass"]
    pandas = median['python -c "import pandas"']

    def line(name: str, goal: float | None, note: str, ok: bool = True) -> Result:
        seconds = median[name]
        return report(
            Result(
                name,
                fmt_time(seconds),
                f"{fmt_time(base)} (python -c pass)",
                f"{seconds / base:.1f}×",
                f"goal ≤ {goal:g} s" if goal is not None else "",
                ok and (goal is None or seconds <= goal),
                f"median of {RUNS} processes; {note}",
            )
        )

    line("rotation-bot --help", GOAL_HELP, f"heavy imports: {_listed(heavy_help)}", ok=not heavy_help)
    line("rotation-bot rules list", None, f"heavy imports: {_listed(heavy_list)} ({e.kind})")
    line("rotation-bot rules check", None, f"heavy imports: {_listed(heavy_rules)} ({e.kind})")
    print(
        f"heavy imports: {_listed(heavy_help)} (python -X importtime -m bot --help; looked for {', '.join(HEAVY)})",
        flush=True,
    )
    check = median["rotation-bot check (warm)"]
    rotation = median["rotation-bot rotation (warm)"]
    report(
        Result(
            "rotation-bot rotation (warm)",
            fmt_time(rotation),
            f"{fmt_time(check)} (check, warm)",
            f"{rotation / check:.1f}×",
            f"goal ≤ {GOAL_ROTATION:g}× check",
            rotation <= GOAL_ROTATION * check,
            f"median of {RUNS} processes; the answer, signals and precedents as of the last close, tests of chance "
            f"cached per data version ({e.kind})",
        )
    )
    return line(
        "rotation-bot check (warm)",
        GOAL_CHECK,
        f'python -c "import pandas" {fmt_time(pandas)} (ratio {pandas / base:.1f}×), '
        f"so the check beyond pandas' import: {fmt_time(check - pandas)} ({e.kind})",
    )
