"""The running bot: config, store, and the periodic jobs, whichever transport answers commands.

``rotation-bot run`` decides its options once (``RunOptions``, as Prometheus' rule manager takes its
``ManagerOptions``) and builds one ``Service``. The service owns its jobs: the config watcher always,
the scheduler (bot/jobs) when the options say so. Telegram mode (bot/telegram ``build_application``) and
the console (bot/console) add their outbox delivery with ``add_periodic`` and start the jobs, so a job
runs the same in either mode. A job is an ``async`` function taking no arguments, run every ``seconds``
(a number, or a function re-asked after every run); one that raises is logged, remembered as
``last_error`` (shown by /status) and run again at its next time. A job added with ``overlap`` starts each
run on time in a task of its own, whether or not the last one ended (delivery: one chat waiting out
Telegram's flood control or a hung send must not hold the pass that would deliver to the others).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bot.edits
from bot.config import POLL_SECONDS, Config, ConfigHolder
from bot.jobs import TICK_SECONDS, BotScheduler
from bot.store import FAULTS, Store, chats, outbox, utcnow

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[object]]
Interval = float | Callable[[], float]

DELIVERY_SECONDS = 2.0  # how often the outbox is delivered, whichever transport delivers it
CHART_WORKERS = 2  # charts drawn at once in worker threads; more requests wait for a slot


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RunOptions:
    """How this run works, decided once by ``rotation-bot run`` (bot/cli/run.py).

    ``schedule``: run the daily fetch + check and the CPI check. ``clock``: the time the scheduler
    decides by; the real one except in tests and the soak, which drive a simulated day.
    """

    schedule: bool = False
    clock: Callable[[], dt.datetime] = field(default=_utc_now)


@dataclass
class Periodic:
    name: str
    interval: Interval
    fn: JobFn
    run_first: bool = False
    overlap: bool = False
    next_at: dt.datetime | None = None

    def seconds(self) -> float:
        return max(0.0, float(self.interval() if callable(self.interval) else self.interval))


class Service:
    """Holds what commands and jobs share; ``config`` may be replaced by /reload."""

    def __init__(
        self, config: Config, store: Store, config_path: Path | None = None, options: RunOptions | None = None
    ) -> None:
        self.store = store
        self.options = options or RunOptions()
        # /reload and the config watcher swap the config inside this holder (bot/config/reload.py), each load after
        # settling an edit a crash left half recorded, so a rename's routes and silences follow the new name.
        self.config_holder = ConfigHolder(config, config_path, settle=lambda path: bot.edits.settle(self.store, path))
        self.config_path = config_path
        self.periodic: list[Periodic] = [Periodic("config-watch", POLL_SECONDS, self.watch_config)]
        self.scheduler: BotScheduler | None = None
        if self.options.schedule:
            self.scheduler = BotScheduler(self.config_holder, now=self.options.clock, settle=bot.edits.settle)
            # run first: the catch-up of a run missed while stopped
            self.periodic.append(Periodic("scheduler", TICK_SECONDS, self.run_scheduler, run_first=True))
        self.last_error: str | None = None
        self.chart_slots = asyncio.Semaphore(CHART_WORKERS)
        self.pending_edits: dict[str, Any] = {}  # previews of config edits awaiting Apply (bot/chat/editing.py)
        self._tasks: list[asyncio.Task[None]] = []
        self._runs: set[asyncio.Task[None]] = set()  # runs of overlapping jobs still under way
        self._running = False
        self._unqueued: list[tuple[str, str]] = []  # admin notices the store could not take yet (time, text)

    @property
    def config(self) -> Config:
        """The config in force (the last good one after a reload)."""
        return self.config_holder.config

    # --- who may ask ------------------------------------------------------------------------------

    def upgraded_from(self, chat_id: int) -> int | None:
        """The allowed group this chat was upgraded from, while the config does not name it itself.

        Telegram gives a group a new id when it becomes a supergroup; its subscription moves there at the next
        delivery, but only an admin can change ``allowed_chats``. Meanwhile the group must still be able to see
        and stop what it receives (bot/chat/commands.py ``OWN_SUBSCRIPTION``).
        """
        if self.config.is_allowed(chat_id):
            return None
        return next((old for old in chats.upgraded_from(self.store, chat_id) if self.config.is_allowed(old)), None)

    def admits(self, chat_id: int) -> bool:
        """Whether the chat guard lets a chat's updates through to the commands."""
        return self.config.is_allowed(chat_id) or self.upgraded_from(chat_id) is not None

    # --- periodic jobs ---------------------------------------------------------------------------

    def add_periodic(
        self, name: str, seconds: Interval, fn: JobFn, *, run_first: bool = False, overlap: bool = False
    ) -> None:
        """Run ``fn`` every ``seconds`` (a number, or a function giving the wait until the next run).

        With ``run_first`` the first run is immediate; with ``overlap`` a run does not wait for the last to end
        (``fn`` must then keep its overlapping runs apart itself). Jobs added while the service runs start at once.
        """
        job = Periodic(name, seconds, fn, run_first, overlap)
        self.periodic.append(job)
        if self._running:
            self._schedule(job)

    def next_runs(self) -> dict[str, dt.datetime]:
        """When each job runs next (shown by /status)."""
        return {j.name: j.next_at for j in self.periodic if j.next_at is not None}

    async def run_job(self, job: Periodic) -> None:
        """One run of a job; its failure is logged and kept for /status, never raised."""
        try:
            await job.fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.last_error = f"{job.name}: {type(exc).__name__}: {exc}"
            log.error("periodic job %s failed", job.name, exc_info=exc)

    async def _loop(self, job: Periodic) -> None:
        first = job.next_at or dt.datetime.now(dt.UTC)
        await asyncio.sleep(max(0.0, (first - dt.datetime.now(dt.UTC)).total_seconds()))
        while True:
            if job.overlap:
                run = asyncio.create_task(self.run_job(job), name=f"run:{job.name}")
                self._runs.add(run)
                run.add_done_callback(self._runs.discard)
            else:
                await self.run_job(job)
            wait = job.seconds()
            job.next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
            await asyncio.sleep(wait)

    def _schedule(self, job: Periodic) -> None:
        delay = 0.0 if job.run_first else job.seconds()
        job.next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        self._tasks.append(asyncio.create_task(self._loop(job), name=f"periodic:{job.name}"))

    def start_periodic(self) -> None:
        """Start every registered job as an asyncio task (call from inside the running loop)."""
        self._running = True
        for job in self.periodic:
            self._schedule(job)

    async def watch_config(self) -> None:
        """Reload config.toml within seconds of an edit (a broken edit keeps the last good rules)."""
        message = self.config_holder.poll()
        if message:
            await self.notify_admins(message)

    async def run_scheduler(self) -> None:
        """Run the jobs that are due; their messages (a failure, a recovery) go to the admins."""
        if self.scheduler is not None:
            await self.scheduler.step(self.notify_admins)

    async def notify_admins(self, text: str) -> None:
        """Queue a message for every admin chat through the outbox (so it survives a Telegram outage).

        A store that cannot write (read-only, full) cannot take the row: the notice waits in memory and is queued,
        in order, with the next one (a restart loses it; it is in the log).
        """
        log.warning("admin notice: %s", text)
        self._unqueued.append((utcnow(), text))
        try:
            while self._unqueued:
                now, first = self._unqueued[0]
                key = f"{outbox.ADMIN}|{now}|{hashlib.sha1(first.encode()).hexdigest()[:12]}"
                with self.store.transaction():
                    for chat in self.config.settings.telegram.admin_chats:
                        outbox.queue_text(self.store, key, chat, first)
                self._unqueued.pop(0)
        except FAULTS as exc:
            log.warning("cannot queue %d admin notice(s) yet (%s): kept until the next one", len(self._unqueued), exc)

    async def stop_periodic(self) -> None:
        self._running = False
        if self.scheduler is not None:
            self.scheduler.stop()  # the daily job stops between fetch and check
        tasks, self._tasks = self._tasks + list(self._runs), []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
