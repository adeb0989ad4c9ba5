"""A warm ``check`` end to end: rule states already saved, store opened, then run_check for the latest day."""

from __future__ import annotations

import shutil
import time

from benchmarks import common
from benchmarks.common import Result, best_of, env, fmt_time, remove_store, report
from bot.jobs.check import run_check
from bot.store.db import Store

GOAL = 1.0


def _measure() -> Result:
    e = env()
    path = common.work() / "check.sqlite"
    shutil.copyfile(e.path, path)
    for suffix in ("-wal", "-shm"):
        (common.work() / f"check.sqlite{suffix}").unlink(missing_ok=True)
    config = e.config(store_path=path)
    store = Store(path)
    try:
        t0 = time.perf_counter()
        first = run_check(store, config)  # first ever check: rules warm up on a year of history
        first_s = time.perf_counter() - t0
    finally:
        store.close()

    def fresh_process_like() -> None:
        s = Store(path)  # a new Store: no in-memory price cache, as in `rotation-bot check`
        try:
            run_check(s, config, first.as_of)
        finally:
            s.close()

    warm = best_of(fresh_process_like)
    store = Store(path)
    try:
        run_check(store, config, first.as_of)
        in_bot = best_of(lambda: run_check(store, config, first.as_of))
    finally:
        store.close()
    return report(
        Result(
            "check (warm)",
            fmt_time(warm),
            f"{GOAL:g} s goal",
            f"{warm / GOAL:.2f}",
            f"goal < {GOAL:g} s",
            warm < GOAL,
            f"as of {first.as_of}, {len(config.rules)} rules; first-ever check {fmt_time(first_s)}, "
            f"repeat inside the running bot {fmt_time(in_bot)} ({e.kind})",
        )
    )


def run() -> Result:
    try:
        return _measure()
    finally:
        remove_store(common.work() / "check.sqlite")  # a 130 MB copy: not left in the temp folder
