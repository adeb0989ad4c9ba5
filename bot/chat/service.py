"""The running bot: config, store, and the periodic jobs, whichever transport answers commands.

``rotation-bot run`` builds one ``Service``. Telegram mode (bot/telegram ``build_application``) and
the console (bot/console) both start its periodic jobs, so a job registered here runs in either mode. The
outbox delivery is one such job; the scheduler adds the daily check the same way:

    service.add_periodic("daily-check", seconds_until_next_close, run_daily_check)

where ``seconds`` is a number or a function returning the seconds until the next run (re-asked
after every run), and the job is an ``async`` function taking no arguments. A job that raises is
logged, remembered as ``last_error`` (shown by /status) and run again at its next time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigHolder
from bot.store import FAULTS, Store, outbox, utcnow

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[object]]
Interval = float | Callable[[], float]

DELIVERY_SECONDS = 2.0  # how often the outbox is delivered, whichever transport delivers it
CHART_WORKERS = 2  # charts drawn at once in worker threads; more requests wait for a slot


@dataclass
class Periodic:
    name: str
    interval: Interval
    fn: JobFn
    run_first: bool = False
    next_at: dt.datetime | None = None

    def seconds(self) -> float:
        return max(0.0, float(self.interval() if callable(self.interval) else self.interval))


class Service:
    """Holds what commands and jobs share; ``config`` may be replaced by /reload."""

    def __init__(self, config: Config, store: Store, config_path: Path | None = None) -> None:
        self.store = store
        # /reload and the config watcher swap the config inside this holder (bot/config/reload.py).
        self.config_holder = ConfigHolder(config, config_path)
        self.scheduler: Any = None  # set by bot.jobs.install_scheduler
        self.config_path = config_path
        self.periodic: list[Periodic] = []
        self.last_error: str | None = None
        self.chart_slots = asyncio.Semaphore(CHART_WORKERS)
        self.pending_edits: dict[str, Any] = {}  # previews of config edits awaiting Apply (bot/chat/editing.py)
        self._tasks: list[asyncio.Task[None]] = []
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
        return next((old for old in outbox.upgraded_from(self.store, chat_id) if self.config.is_allowed(old)), None)

    def admits(self, chat_id: int) -> bool:
        """Whether the chat guard lets a chat's updates through to the commands."""
        return self.config.is_allowed(chat_id) or self.upgraded_from(chat_id) is not None

    # --- periodic jobs ---------------------------------------------------------------------------

    def add_periodic(self, name: str, seconds: Interval, fn: JobFn, *, run_first: bool = False) -> None:
        """Run ``fn`` every ``seconds`` (a number, or a function giving the wait until the next run).

        With ``run_first`` the first run is immediate. Jobs added while the service runs start at once.
        """
        job = Periodic(name, seconds, fn, run_first)
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
            self.scheduler.stopping.set()  # the daily job stops between fetch and check
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
