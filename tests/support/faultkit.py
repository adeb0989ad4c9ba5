"""Helpers for the fault-tolerance tests: generated stores, config files, and a crash harness.

The crash harness runs as its own process (``python -m tests.support.faultkit MODE CONFIG [N]``) and
SIGKILLs itself at one precise point, so the tests can restart on the same SQLite file and check
that nothing was lost or sent twice. Modes:

- ``check``: one check, alerts queued in the outbox (what the daily job does); prints the new keys.
- ``check-kill-in-sink``: the check queues its alerts, then dies before its transaction commits.
- ``deliver``: deliver every due outbox row to ``[telegram] api_base_url`` with a real PTB Bot.
- ``deliver-kill-after-accept N``: Telegram accepted the N-th message; die before marking it sent.
- ``deliver-kill-after-mark N``: die right after the N-th message was marked sent.
- ``deliver-kill-after-unanswered``: a send went unanswered and is on record; die before its one retry.
- ``daily-kill-before-done``: the scheduler's daily job ran its check (committed); die before it
  records the slot as done, so the restarted scheduler runs the slot again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bot.store.base import StoreBase
from bot.store.db import Store
from tests.support.paths import REPO

TOKEN = "123:FAULT"
DAY = dt.date(2024, 7, 26)  # a Friday, a NYSE session
HISTORY = 300  # trading days of generated history

# ^GSPC flat at 5000; ^RUT at 1900 (ratio 0.38) until DAY, then 2100 (0.42): three rules fire on DAY.
RATIO_RULES = """
[[rules]]
name = "ratio-above-0.40"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.40
message = "first {value:.3f}"

[[rules]]
name = "ratio-above-0.41"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.41
message = "second {value:.3f}"

[[rules]]
name = "ratio-above-0.415"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.415
message = "third {value:.3f}"
"""
RULE_ORDER = ["ratio-above-0.40", "ratio-above-0.41", "ratio-above-0.415"]


def days_until(last: dt.date, n: int = HISTORY) -> pd.DatetimeIndex:
    return pd.bdate_range(end=pd.Timestamp(last), periods=n, name="date")


def frame(values: Sequence[float] | np.ndarray, last: dt.date) -> pd.DataFrame:
    arr = np.asarray(values, dtype=float)
    return pd.DataFrame({"close": arr, "adj_close": arr}, index=days_until(last, len(arr)))


def seed_ratio_store(store: Store, last: dt.date = DAY, cross: bool = True) -> None:
    """^GSPC flat; ^RUT flat and, with ``cross``, jumping on ``last`` so the ratio crosses 0.40 and 0.41."""
    rut = np.full(HISTORY, 1900.0)
    if cross:
        rut[-1] = 2100.0
    store.upsert_prices("^GSPC", frame(np.full(HISTORY, 5000.0), last))
    store.upsert_prices("^RUT", frame(rut, last))


def write_config(tmp_path: Path, base_url: str = "http://127.0.0.1:9/bot", rules: str = RATIO_RULES) -> Path:
    """A config.toml in ``tmp_path`` whose store is ``tmp_path/store.sqlite``, with no network sources."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[store]
path = "store.sqlite"

[telegram]
api_base_url = "{base_url}"

[data]
symbols = ["^GSPC", "^RUT"]

[universes]
{rules}
""",
        encoding="utf-8",
    )
    return path


def run_harness(mode: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the crash harness in a fresh interpreter (the timeout only guards against a hang)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.support.faultkit", mode, str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outbox_rows(store: Store) -> list[tuple[str, int, str]]:
    """(alert_key, chat_id, status) per outbox row, in queue order."""
    rows = store.db.execute("SELECT alert_key, chat_id, status FROM outbox ORDER BY id").fetchall()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


def alert_keys(store: Store) -> list[str]:
    return [str(r[0]) for r in store.db.execute("SELECT key FROM alerts ORDER BY rule").fetchall()]


# --- the harness (runs in the child process) -----------------------------------------------------
#
# Each entry point imports what its mode needs inside the function, on purpose: every crash test starts
# several fresh interpreters, and importing the Telegram client and the scheduler in each of them (more
# than a second per process) would add most of a minute to the kill -9 tests. The test process itself
# imports this module only for the helpers above.


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _check(config_path: Path, kill_in_sink: bool) -> None:
    from bot.config.settings import load_config
    from bot.jobs.check import run_check
    from bot.store.outbox import enqueue_alerts
    from rules import Alert

    config = load_config(config_path)
    store = Store(config.store_path)

    def dying_sink(s: Store, alerts: Sequence[Alert]) -> object:
        queued = enqueue_alerts(s, alerts)
        assert queued > 0, "the harness must die with rows queued inside the transaction"
        _die()
        return queued

    report = run_check(store, config, sink=dying_sink if kill_in_sink else enqueue_alerts)
    print(json.dumps([a.key for a in report.alerts]))


def _deliver(config_path: Path, kill: str | None, nth: int) -> None:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.config.settings import load_config
    from bot.store import outbox
    from bot.telegram.delivery import deliver_pending

    config = load_config(config_path)
    store = Store(config.store_path)
    marked = 0
    real_mark_sent = outbox.mark_sent

    def mark_sent(s: Store, row_id: int) -> None:
        nonlocal marked
        marked += 1
        if kill == "after-accept" and marked == nth:
            _die()  # Telegram has the message; the store does not know yet
        real_mark_sent(s, row_id)
        if kill == "after-mark" and marked == nth:
            _die()

    real_mark_unanswered = outbox.mark_unanswered

    def mark_unanswered(s: Store, row_id: int, error: str) -> None:
        real_mark_unanswered(s, row_id, error)
        if kill == "after-unanswered":
            _die()  # Telegram may have the message; its one more send has not gone yet

    outbox.mark_sent = mark_sent  # type: ignore[assignment]
    outbox.mark_unanswered = mark_unanswered  # type: ignore[assignment]

    async def nap(seconds: float) -> None:
        return None

    async def go() -> int:
        request = HTTPXRequest(connect_timeout=30, read_timeout=30)  # generous: CI machines are busy
        async with Bot(TOKEN, base_url=config.settings.telegram.api_base_url, request=request) as bot:
            return await deliver_pending(bot, store, sleep=nap)

    print(asyncio.run(go()))


def _daily_kill_before_done(config_path: Path) -> None:
    from bot.config.reload import ConfigHolder
    from bot.jobs.scheduler import BotScheduler

    holder = ConfigHolder.load(config_path)
    real_set_meta = Store.set_meta

    def set_meta(self: StoreBase, key: str, value: str) -> None:
        if key.startswith("scheduler."):
            _die()  # the check committed; the slot is not recorded as done
        real_set_meta(self, key, value)

    StoreBase.set_meta = set_meta  # type: ignore[method-assign]
    after_close = dt.datetime.combine(DAY, dt.time(22, 0), tzinfo=dt.UTC)
    scheduler = BotScheduler(holder, now=lambda: after_close, fetch_prices=lambda s, c: None)
    print(scheduler.tick())


def main(argv: list[str]) -> None:
    mode, config = argv[0], Path(argv[1])
    nth = int(argv[2]) if len(argv) > 2 else 0
    if mode in ("check", "check-kill-in-sink"):
        _check(config, kill_in_sink=mode == "check-kill-in-sink")
    elif mode == "deliver":
        _deliver(config, None, 0)
    elif mode in ("deliver-kill-after-accept", "deliver-kill-after-mark", "deliver-kill-after-unanswered"):
        _deliver(config, mode.removeprefix("deliver-kill-"), nth)
    elif mode == "daily-kill-before-done":
        _daily_kill_before_done(config)
    else:
        raise SystemExit(f"unknown mode {mode}")


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr[-3000:]}"


def received(requests: Sequence[Any], chat: int) -> list[str]:
    """The rule names of the alerts a fake Telegram accepted for ``chat``, in arrival order."""
    out = []
    for r in requests:
        if r.method == "sendMessage" and r.outcome == "ok" and r.chat_id == chat:
            head = r.text.split("\n", 1)[0]
            out.append(head.removeprefix("🔔 <b>").removesuffix("</b>"))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])


def corrupt_in_the_middle(store: Path) -> None:
    """Scribble over the prices table's root page, keeping the schema intact: the file still opens.

    The scribble is fixed, not random: random bytes can read back as rows SQLite finds nothing wrong with (it
    keeps no checksums), which made these tests fail about one run in a few hundred.
    """
    s = Store(store)
    s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = s.db.execute("PRAGMA page_size").fetchone()[0]
    root = s.db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'prices'").fetchone()[0]
    s.close()
    with store.open("r+b") as fh:
        fh.seek((root - 1) * page + 100)
        fh.write(b"\xff" * (page - 200))
