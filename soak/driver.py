"""The soak's driver: it owns the simulated clock, the fake Bot API and the fault schedule, and lives through
the days with the bot process (soak/runner.py), killing and restarting it as the schedule says.

Each simulated day: the clock goes to the day's 16:00 and then past the daily slot (17:31 New York); the day's
faults fire at their drawn moments (real seconds into the day); while the daily job has not recorded the day as
done the clock moves on a quarter of an hour at a time (so its retries come, as they would over an evening);
the day ends once the job is done, the outbox is drained and every fault has fired. The bot's memory is read
after each day from /proc.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from soak.faults import Fault, schedule
from soak.world import ADMIN, CANARY, GROUP, INDICES, PRIVATE, REPO, SUPERGROUP, World, build
from tests.support.fake_telegram import Failure, FakeTelegram, Request

STEP = dt.timedelta(minutes=16)  # a little more than the scheduler's 15-minute retry
LAST_STEP = dt.time(23, 45)
STUCK_SECONDS = 1.5  # real seconds without the day's job done before the clock moves on
DRAIN_SECONDS = 45.0  # real seconds a day waits for the outbox to drain before it moves on
FLOOD_COMMANDS = ("/help", "/alerts", "/subscriptions", "/nonsense", "/start")


def ny_time(day: dt.date, hh: int, mm: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=ZoneInfo("America/New_York"))


@dataclass
class Ledger:
    """What the driver did, for the invariants and the report."""

    injected: dict[str, int] = field(default_factory=dict)
    kills: list[float] = field(default_factory=list)  # monotonic times of each kill -9
    hand_messages: list[str] = field(default_factory=list)
    chat_thresholds: list[int] = field(default_factory=list)
    rss: dict[int, int] = field(default_factory=dict)  # day number -> kB
    born: dict[int, int] = field(default_factory=dict)  # day number -> day the process measured was started
    migrated_on: int | None = None
    logs: list[Path] = field(default_factory=list)
    unexpected_exits: list[str] = field(default_factory=list)
    late_days: list[str] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1


class Stamped(list[Request]):
    """The fake's request log, each request stamped with when it arrived (to tell a repeat after a kill -9)."""

    def append(self, request: Request) -> None:
        request.at = time.monotonic()  # type: ignore[attr-defined]
        super().append(request)


class Driver:
    def __init__(self, seed: int, days: int, folder: Path) -> None:
        self.seed, self.days, self.folder = seed, days, folder
        self.tg = FakeTelegram(long_poll=0.5)
        self.tg.requests = Stamped()
        self.ledger = Ledger()
        self.proc: subprocess.Popen[bytes] | None = None
        self.proc_day = 0
        self.day_no = 0
        self.timers: list[tuple[float, Any]] = []
        self.rng = random.Random(seed ^ 0x5EED)
        self.pressed: set[int] = set()  # the edits whose Apply was pressed
        self.world: World

    # --- the bot process -------------------------------------------------------------------------

    def start_bot(self) -> None:
        log = self.folder / f"bot-{len(self.ledger.logs) + 1:02d}.log"
        self.ledger.logs.append(log)
        (self.folder / "alive").unlink(missing_ok=True)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "soak.runner", str(self.folder)], cwd=REPO, stdout=out, stderr=out
            )
        self.proc_day = self.day_no

    def alive(self) -> bool:
        path = self.folder / "alive"
        return self.proc is not None and path.exists() and path.read_text() == str(self.proc.pid)

    def wait_alive(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while not self.alive() and time.monotonic() < deadline:
            self.watch_bot()
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.ledger.kills.append(time.monotonic())
        self.ledger.count("kill9")
        self.start_bot()

    def watch_bot(self) -> None:
        """A bot that exits by itself is a failure of the soak; it is restarted so the run can finish."""
        assert self.proc is not None
        code = self.proc.poll()
        if code is not None:
            self.ledger.unexpected_exits.append(f"day {self.day_no}: exit {code} ({self.ledger.logs[-1].name})")
            self.start_bot()

    def stop_bot(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.ledger.unexpected_exits.append("did not stop within 30 s of SIGTERM")
                self.proc.kill()
                self.proc.wait()

    def rss_kb(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    # --- the clock and the switches --------------------------------------------------------------

    def control(self, **changes: Any) -> None:
        path = self.world.control_path
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(changes)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(json.loads(self.world.control_path.read_text())["now"])

    def set_now(self, when: dt.datetime) -> None:
        self.control(now=when.isoformat())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.world.store_path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def day_done(self, day: dt.date) -> bool:
        key = ny_time(day, 17, 30).astimezone(dt.UTC).isoformat()
        rows = self.query("SELECT value FROM meta WHERE key = 'scheduler.daily.done'")
        return bool(rows) and str(rows[0][0]) >= key

    def drained(self) -> bool:
        rows = self.query("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        return bool(rows) and rows[0][0] == 0

    # --- faults ----------------------------------------------------------------------------------

    def later(self, seconds: float, fn: Any) -> None:
        self.timers.append((time.monotonic() + seconds, fn))

    def inject(self, fault: Fault) -> None:
        kind, p = fault.kind, fault.params
        if kind == "kill9":
            self.kill9()
            return
        self.ledger.count(kind)
        if kind.startswith("telegram_"):
            failure = {
                "telegram_429": Failure("429", retry_after=int(p.get("retry_after", 1))),  # type: ignore[call-overload]
                "telegram_500": Failure("500"),
                "telegram_hang": Failure("delay", delay=float(p["delay"])),  # type: ignore[arg-type]
                "telegram_drop": Failure(self.rng.choice(["drop", "reset"])),
                "telegram_late": Failure("late", delay=float(p["delay"])),  # type: ignore[arg-type]
            }[kind]
            self.tg.fail_next(str(p["method"]), failure)
            for _ in range(int(p.get("times", 1)) - 1):  # type: ignore[call-overload]
                self.tg.fail_next(str(p["method"]), Failure(self.rng.choice(["drop", "reset"])))
        elif kind.startswith("yahoo_"):
            until = max(self.now(), ny_time(self.now().date(), 17, 31)) + dt.timedelta(minutes=int(p["minutes"]))  # type: ignore[call-overload]
            mode = kind.removeprefix("yahoo_")
            self.control(yahoo={"mode": mode, "until": until.isoformat(), "symbols": p["symbols"], "value": p["value"]})
        elif kind.startswith("store_"):
            self.control(store={"mode": kind.removeprefix("store_"), "until": "9999-12-31T00:00:00+00:00"})
            self.later(float(p["seconds"]), lambda: self.control(store=None))  # type: ignore[arg-type]
        elif kind == "config_race":
            self.config_race(str(p["order"]), float(p["gap"]))  # type: ignore[arg-type]
        elif kind == "flood":
            for i in range(int(p["commands"])):  # type: ignore[call-overload]
                self.tg.push_text(PRIVATE, FLOOD_COMMANDS[i % len(FLOOD_COMMANDS)])
        elif kind == "migrate":
            self.tg.migrate(GROUP, SUPERGROUP)
            self.ledger.migrated_on = self.day_no

    def hand_edit(self) -> None:
        """An admin edits config.toml in an editor: read, change the canary's message, write in place."""
        doc = tomlkit.parse(self.world.config_path.read_text())
        message = f"canary, hand edit {len(self.ledger.hand_messages) + 1}"
        for rule in doc["rules"]:  # type: ignore[union-attr]
            if rule["name"] == CANARY:
                rule["message"] = message
        self.world.config_path.write_text(tomlkit.dumps(doc))
        self.ledger.hand_messages.append(message)

    def chat_edit(self, then: Any = None) -> None:
        threshold = 1_000_000_000 + len(self.ledger.chat_thresholds) + 1
        self.ledger.chat_thresholds.append(threshold)
        self.tg.push_text(ADMIN, f"/set {CANARY} threshold {threshold}")
        self.later(1.0 + self.rng.random(), lambda: self.press_apply(threshold, then=then))

    def press_apply(self, threshold: int, tries: int = 20, then: Any = None) -> None:
        """Press Apply once on the preview of this edit, as the admin would (the preview replays the rule first: it
        may take a few seconds, longer while a fault holds the reply). Only this edit's preview: after a kill -9
        Telegram hands the last commands to the restarted bot again, and the admin does not apply an old one."""
        if threshold in self.pressed:
            return
        for req in reversed(self.tg.accepted(ADMIN)):
            markup = req.params.get("reply_markup") or {}
            if f"→ {threshold}" not in req.text or not isinstance(markup, dict):
                continue
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = str(button.get("callback_data", ""))
                    if data.startswith("apply:"):
                        self.pressed.add(threshold)
                        self.tg.push_press(ADMIN, data)
                        if then is not None:
                            then()
                        return
        if tries > 0:
            self.later(0.5, lambda: self.press_apply(threshold, tries - 1, then))

    def config_race(self, order: str, gap: float) -> None:
        """A hand edit before a chat edit, between its preview and Apply (refused), or racing the Apply's write."""
        if order == "hand_first":
            self.hand_edit()
            self.later(gap, self.chat_edit)
        elif order == "hand_between":
            self.chat_edit()
            self.later(gap, self.hand_edit)
        else:
            self.chat_edit(then=lambda: self.later(gap, self.hand_edit))

    def fire_timers(self) -> None:
        now = time.monotonic()
        due = [t for t in self.timers if t[0] <= now]
        self.timers = [t for t in self.timers if t[0] > now]
        for _, fn in due:
            fn()

    # --- the days --------------------------------------------------------------------------------

    def live_day(self, day: dt.date, faults: list[Fault]) -> None:
        self.set_now(ny_time(day, 16, 0))
        start = time.monotonic()
        for f in faults:
            self.timers.append((start + f.at, lambda f=f: self.inject(f)))
        self.set_now(ny_time(day, 17, 31))
        stuck_since = time.monotonic()
        while True:
            self.fire_timers()
            self.watch_bot()
            done = self.day_done(day)
            if done and not self.timers and (self.drained() or time.monotonic() - stuck_since > DRAIN_SECONDS):
                break
            if not done and self.alive() and time.monotonic() - stuck_since > STUCK_SECONDS:
                nxt = self.now() + STEP
                if nxt.timetz().replace(tzinfo=None) < LAST_STEP and nxt.date() == day:
                    self.set_now(nxt)
                    stuck_since = time.monotonic()
                elif time.monotonic() - stuck_since > 60:
                    self.ledger.late_days.append(day.isoformat())
                    break
            time.sleep(0.1)
        self.control(yahoo=None)

    def run(self) -> None:
        self.tg.start()
        try:
            self.world = build(self.folder, self.seed, self.days, self.tg.base_url)
            days = [dt.date.fromisoformat(d) for d in self.world.days]
            plan = schedule(self.seed, len(days), [s for s in self.world.symbols if s not in INDICES], INDICES)
            self.set_now(ny_time(days[0], 9, 0))
            self.start_bot()
            for i, (day, faults) in enumerate(zip(days, plan, strict=True)):
                self.day_no = i + 1
                self.live_day(day, faults)
                self.wait_alive()  # a bot restarted late in the day is measured once it runs, not mid-import
                self.ledger.rss[self.day_no] = self.rss_kb()
                self.ledger.born[self.day_no] = self.proc_day
                print(
                    f"soak: day {self.day_no}/{len(days)} {day}: {', '.join(f.kind for f in faults) or 'no faults'}",
                    flush=True,
                )
            deadline = time.monotonic() + 120
            while not self.drained() and time.monotonic() < deadline:
                self.fire_timers()
                self.watch_bot()
                time.sleep(0.2)
            self.stop_bot()
            with (self.folder / "telegram.jsonl").open("w") as out:  # every call the fake Bot API saw, to debug
                for r in self.tg.requests:
                    if r.method != "getUpdates":
                        out.write(
                            json.dumps([r.method, r.chat_id, r.outcome, r.text[:300], r.params.get("reply_markup")])
                            + "\n"
                        )
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
            self.tg.stop()
