"""``make bench``: run every benchmark once and print one line each (ratios measured in this run)."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import traceback

import numpy as np
import pandas as pd

from benchmarks import (
    bench_breadth,
    bench_check,
    bench_daily,
    bench_digest,
    bench_flood,
    bench_incremental,
    bench_memory,
    bench_ratio_query,
    bench_replay,
    bench_startup,
    bench_sweep,
    bench_track,
)
from benchmarks.common import env, owns_work, work

# Memory first: RUSAGE_CHILDREN keeps the largest child's peak, so no other child may come before it.
BENCHMARKS = (
    bench_memory,
    bench_breadth,
    bench_replay,
    bench_check,
    bench_ratio_query,
    bench_incremental,
    bench_daily,
    bench_digest,
    bench_track,
    bench_sweep,
    bench_startup,
    bench_flood,
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    mem = ""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages * size / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    print(f"machine: {machine()}", flush=True)
    e = env()
    print(f"data: {e.kind}, {e.members} members × {e.days} days, store {e.path}", flush=True)
    failed = 0
    try:
        for bench in BENCHMARKS:
            try:
                bench.run()
            except Exception:  # one broken benchmark must not hide the others
                failed += 1
                print(f"{bench.__name__}: ERROR", flush=True)
                traceback.print_exc()
    finally:
        # The scratch stores take hundreds of MB: a folder of our own goes (BENCH_KEEP=1 keeps it); a BENCH_DIR
        # stays, so the next run with it reuses the loaded store.
        if owns_work() and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work(), ignore_errors=True)
        elif owns_work():
            print(f"(kept {work()})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
