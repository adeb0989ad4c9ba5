"""The soak's command line: ``SOAK_SEED``, ``SOAK_DAYS`` and ``SOAK_DIR`` from the environment, one line per
invariant, and on failure the seed and the command that replays it."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from soak.checks import check, expected_alerts
from soak.driver import Driver


def replay_command(seed: int, days: int) -> str:
    return f"SOAK_SEED={seed} SOAK_DAYS={days} make soak"


def run(seed: int, days: int, folder: Path) -> tuple[bool, dict[str, object]]:
    started = time.monotonic()
    print(f"soak: seed {seed}, {days} days, work folder {folder}", flush=True)
    driver = Driver(seed, days, folder)
    driver.run()
    expected = expected_alerts(driver.world, folder / "initial.sqlite")
    lines = check(driver, expected)
    for line in lines:
        print(f"{'ok  ' if line.ok else 'FAIL'} {line.text}", flush=True)
    ok = all(line.ok for line in lines)
    wall = time.monotonic() - started
    figures: dict[str, object] = {
        "seed": seed,
        "days": days,
        "first_day": driver.world.days[0],
        "last_day": driver.world.days[-1],
        "data": driver.world.source,
        "faults": driver.ledger.injected,
        "alerts": len(expected),
        "rss_kb": driver.ledger.rss,
        "wall_seconds": round(wall),
        "ok": ok,
        "lines": [line.text for line in lines],
    }
    (folder / "soak-report.json").write_text(json.dumps(figures, indent=1))
    print(f"soak: {'passed' if ok else 'FAILED'} in {wall:.0f} s (seed {seed}, {days} days)", flush=True)
    if not ok:
        print(f"soak: replay with: {replay_command(seed, days)}", flush=True)
    return ok, figures


def main() -> None:
    seed = int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(1, 1_000_000))
    days = int(os.environ.get("SOAK_DAYS") or 60)
    chosen = os.environ.get("SOAK_DIR")
    folder = Path(chosen or tempfile.mkdtemp(prefix=f"soak-{seed}-"))
    ok, _ = run(seed, days, folder)
    if ok and not chosen:
        shutil.rmtree(folder, ignore_errors=True)  # a failed run keeps its folder (logs, store, requests) to look at
    sys.exit(0 if ok else 1)
