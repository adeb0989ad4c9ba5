"""Peak memory (max RSS) of a full replay of the default rules, run in a child process."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Env, Result, env, report

GOAL_MB = 400.0
YEARS = 25


def child(path: str, years: int | None) -> None:
    """The replay itself (run by the child process): the last ``years``, or all history."""
    from bot.config.settings import parse_config
    from bot.market.replay import run_replay
    from bot.store.db import Store

    config = parse_config({"store": {"path": path}})
    store = Store(path)
    try:
        latest = store.latest_date()
        assert latest is not None
        start = dt.date(1900, 1, 1) if years is None else latest.replace(year=latest.year - years)
        result, seconds = run_replay(store, config, start)
    finally:
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sum(result.counts.values())} alerts from {start} in {seconds:.2f} s, peak {peak:.0f} MB")


def _spawn(path: Path, years: int | None) -> str:
    code = f"from benchmarks.bench_memory import child; child({str(path)!r}, {years!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"replay child failed: {out.stderr.strip().splitlines()[-1:]}")
    return out.stdout.strip()


def run(e: Env | None = None) -> Result:
    e = e or env()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    detail = _spawn(e.path, YEARS)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    mb = peak_kb / 1024
    note = f"default rules over {YEARS} years: {detail}"
    if peak_kb <= before:
        note += " (an earlier child had a larger peak, so this is an upper bound)"
    note += f"; whole history (child's own RUSAGE_SELF): {_spawn(e.path, None)} ({e.kind})"
    return report(
        Result(
            "replay peak memory",
            f"{mb:.0f} MB",
            f"{GOAL_MB:g} MB goal",
            f"{mb / GOAL_MB:.2f}",
            f"goal < {GOAL_MB:g} MB",
            mb < GOAL_MB,
            note,
        )
    )
