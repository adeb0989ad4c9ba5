"""The always-on jobs: the daily fetch + check after the US close, the CPI check on release mornings.

Every trigger goes through one idempotent decision, ``tick()``: find the latest *slot* (a trading
day at ``daily_check``, a CPI release day at ``cpi_check``, in the exchange's time zone) that has
passed, and run its job unless that slot is already done. The scheduler's clock ``now`` is the only
clock that decides: the host loop merely calls ``step()`` every ``TICK_SECONDS`` (asking costs one
store read), so the slot's time, a retry, a restart after a missed run (catch-up) and a fake or
simulated clock in tests all take the same path, and a slot never runs twice. Done slots are kept
in the store's meta table, so a restart does not repeat them.

Blocking work (downloads, the check) runs in a worker thread with its own SQLite connection,
beside the bot's asyncio loop. A stop request is honoured between fetch and check: the check runs
in one transaction anyway, so nothing is ever half-written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.answers import Reading, build_digest, render, split_message
from bot.calendar import Slot, at, cpi_slot, daily_slot, last_trading_day
from bot.config import Config, ConfigHolder, Notify
from bot.errors import BotError, SourceUnavailable
from bot.ingest import fetch_live
from bot.jobs.check import CheckReport, evaluate_day, run_check
from bot.jobs.notify import notifier
from bot.jobs.upkeep import beat, daily_backup
from bot.market import stale_symbols
from bot.store import Store, chats, outbox, store_fault
from rules import RuleError

log = logging.getLogger(__name__)

RETRY_AFTER = dt.timedelta(minutes=15)
# How long the daily job waits for the day's close before checking with what it has.
CLOSE_WAIT = dt.timedelta(hours=6)
# A rule symbol with no close for this many sessions is no longer waited for.
STOPPED_AFTER_SESSIONS = 5
TICK_SECONDS = 30.0  # how often the host loop asks; a slot runs within this of its time

Fetcher = Callable[[Store, Config], object]
Settle = Callable[[Store, Path], object]  # bot.edits.settle, given by the service (this floor is below it)


class Stopped(Exception):
    """The service is shutting down; the job stopped at a safe point."""


# --- the jobs ------------------------------------------------------------------------------------


def fetch_cpi(store: Store, config: Config) -> object:
    return fetch_live(store, config, "fred", None, progress=False)


def run_cpi_check(
    store: Store, config: Config, day: dt.date, now: Callable[[], dt.datetime] | None = None
) -> CheckReport | None:
    """Evaluate only the CPI rules up to the release ``day`` (prices for that day do not exist yet).

    Price rules are left alone so the evening check still evaluates them for ``day``.
    """
    rules = [r for r in config.rules if r.spec.enabled and r.metric.uses_cpi]
    if not rules:
        return None
    return run_check(store, config, as_of=day, rules=rules, sink=notifier(config, now=now))


def queue_daily_digest(
    store: Store, config: Config, day: dt.date, now: dt.datetime, reading: Reading | None = None
) -> int:
    """Queue the digest for every subscriber, held until ``[digest] time`` (or sent now if that has passed).

    The digest is computed once, from ``reading`` (the day's check; without one, an evaluation that records
    nothing), and each chat gets its projection on the rules it subscribed to (its route): chats with the same
    rules share one rendering. Many rules make a digest longer than one Telegram message: it is queued as
    several, in order.
    """
    tz = ZoneInfo(config.settings.schedule.timezone)
    evening = at(day, config.settings.digest.time, tz)  # the session's evening, even when the job ran late
    routes = chats.routes(store)
    groups: dict[tuple[str, ...] | None, list[int]] = {}
    for chat in chats.subscribers(store):
        groups.setdefault(routes.get(chat, chats.Route()).shown(config.rules), []).append(chat)
    if not groups:
        return 0
    if reading is None and any(r.spec.enabled for r in config.rules):
        reading = evaluate_day(store, config, day).reading
    digest = build_digest(store, config, reading)
    queued = 0
    for only, members in groups.items():
        parts = split_message(render.digest(digest.project(only)))
        queued += outbox.queue_digest(store, day, parts, not_before=max(evening, now), chats=members)
    return queued


def _check_summary(report: CheckReport | None) -> str:
    if report is None:
        return "no CPI rules"
    errors = f", {len(report.errors)} rule errors" if report.errors else ""
    return f"checked {len(report.results)} rules as of {report.as_of}: {len(report.alerts)} new alerts{errors}"


class BotScheduler:
    """Runs the daily and CPI jobs at their slots; see the module docstring."""

    def __init__(
        self,
        holder: ConfigHolder,
        now: Callable[[], dt.datetime] | None = None,
        fetch_prices: Fetcher | None = None,
        fetch_cpi: Fetcher = fetch_cpi,
        open_store: Callable[[Config], Store] | None = None,
        settle: Settle | None = None,
    ) -> None:
        self.holder = holder
        self.settle = settle
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.stopping = threading.Event()
        self.fetch_prices = fetch_prices or self._fetch_prices
        self.fetch_cpi = fetch_cpi
        self.open_store = open_store or (lambda c: Store(c.store_path))
        self.messages: list[str] = holder.config.cannot_run()  # for the admin chats, drained by step
        self._done: dict[str, str] = {}
        self._retry_at: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self._store_failing = False  # the store could not record a run: logged once per outage
        self.heartbeat: threading.Thread | None = None  # the last ping's thread (tests join it)

    def _fetch_prices(self, store: Store, config: Config) -> object:
        """The Yahoo update; a shutdown request cuts its retries short."""
        return fetch_live(store, config, "yahoo", None, progress=False, cancel=self.stopping, now=self.now)

    # --- the decision --------------------------------------------------------------------------

    def _failing_key(self, kind: str) -> str:
        """Meta key holding the slot whose failure the admins were told about ("" when none)."""
        return f"scheduler.{kind}.failing"

    def _meta_key(self, kind: str) -> str:
        return f"scheduler.{kind}.done"

    def due(self, store: Store) -> list[Slot]:
        """Slots that have passed, are not done, and are not waiting for a retry."""
        config = self.holder.config
        now = self.now()
        slots = [daily_slot(now, config), cpi_slot(now, config, store.cpi_releases())]
        out = []
        for slot in slots:
            if slot is None:
                continue
            if slot.kind not in self._done:
                self._done[slot.kind] = store.get_meta(self._meta_key(slot.kind), "") or ""
            if self._done[slot.kind] >= slot.key:
                continue
            retry = self._retry_at.get(slot.kind)
            if retry is not None and now < retry:
                continue
            out.append(slot)
        return out

    def tick(self) -> list[str]:
        """Run whatever is due now (blocking); returns one line per job run. Safe to call any time."""
        if not self._lock.acquire(blocking=False):
            return []  # a job is already running in another thread
        try:
            store = self.open_store(self.holder.config)
            try:
                if self.due(store):
                    self._follow_file(store)
                config = self.holder.config
                lines = []
                for slot in self.due(store):
                    if self.stopping.is_set():
                        break
                    try:
                        lines.append(self._run(store, config, slot))
                    except sqlite3.Error as exc:  # read-only or full: not even the run's record could be written
                        lines.append(self._cannot_record(store, slot, exc))
                        break
                    self._store_failing = False  # the store records again: the next outage is logged again
                return lines
            finally:
                store.close()
        finally:
            self._lock.release()

    def _follow_file(self, store: Store) -> None:
        """Before a check: settle what a crashed edit left (a reload that could not, with the store read-only then)
        and load config.toml if it changed since, so the check routes by the names the file and the store share."""

        def settle(path: Path) -> None:
            if self.settle is not None:
                self.settle(store, path)

        settle(self.holder.path)
        message = self.holder.poll(settle=settle)
        if message:
            self.messages.append(message)

    def _run(self, store: Store, config: Config, slot: Slot) -> str:
        run_id = store.start_run(slot.kind)
        try:
            detail = self._daily(store, config, slot) if slot.kind == "daily" else self._cpi(store, config, slot.day)
        except Stopped:
            store.finish_run(run_id, "cancelled", "stopped before the check; will run again on start")
            return f"{slot.kind} {slot.day}: stopped"
        except _NotYet as exc:
            self._retry_at[slot.kind] = self.now() + RETRY_AFTER
            store.finish_run(run_id, "waiting", str(exc))
            return f"{slot.kind} {slot.day}: {exc}"
        except sqlite3.Error:
            raise  # the store cannot write: tick() says so once, and the slot runs again at the next tick
        except (BotError, RuleError, OSError) as exc:
            return self._failed(
                store, run_id, slot, str(exc), exc.source if isinstance(exc, SourceUnavailable) else None
            )
        except Exception as exc:  # never let one bad run kill the scheduler thread
            log.exception("%s job failed", slot.kind)
            return self._failed(store, run_id, slot, f"{type(exc).__name__}: {exc}")
        self._done[slot.kind] = slot.key
        store.set_meta(self._meta_key(slot.kind), slot.key)
        self._retry_at.pop(slot.kind, None)
        store.finish_run(run_id, "ok", detail)
        failing = self._failing_key(slot.kind)
        if store.get_meta(failing):  # kept in the store: a restart mid-outage still reports its end
            store.set_meta(failing, "")
            self.messages.append(f"The {slot.kind} job for {slot.day} ran after earlier failures: {detail}")
        if slot.kind == "daily":  # its alerts are queued: a backup or a ping can no longer fail it
            if trouble := daily_backup(store, config, self.now()):
                self.messages.append(trouble)
            self.heartbeat = beat(config, ok=True)
        return f"{slot.kind} {slot.day}: {detail}"

    def _cannot_record(self, store: Store, slot: Slot, exc: sqlite3.Error) -> str:
        """The slot stays open (it runs again at the next tick). One warning per outage, without a traceback:
        every tick would otherwise log the same page; the admins hear from delivery, which pauses too."""
        why = str(store_fault(store.path, exc))
        if not self._store_failing:
            log.warning(
                "the %s job for %s cannot record anything: %s; trying again each tick", slot.kind, slot.day, why
            )
            if slot.kind == "daily":
                self.heartbeat = beat(self.holder.config, ok=False)
        self._store_failing = True
        return f"{slot.kind} {slot.day}: the store cannot record the run: {why}"

    def _failed(self, store: Store, run_id: int, slot: Slot, why: str, source: str | None = None) -> str:
        retry = (self.now() + RETRY_AFTER).astimezone(dt.UTC)
        self._retry_at[slot.kind] = retry
        store.finish_run(run_id, "failed", why)
        if source:  # /status shows when the source is tried again
            store.set_next_retry(source, retry.isoformat(timespec="minutes"))
        message = f"The {slot.kind} job for {slot.day} failed: {why}. Retrying after {retry:%H:%M} UTC."
        failing = self._failing_key(slot.kind)
        if store.get_meta(failing) != slot.key:  # once per failing slot, not every 15 minutes
            self.messages.append(message + " (You will hear again when it has run.)")
            store.set_meta(failing, slot.key)
        log.warning("%s", message)
        if slot.kind == "daily":
            self.heartbeat = beat(self.holder.config, ok=False)
        return f"{slot.kind} {slot.day}: failed: {why}"

    def _daily(self, store: Store, config: Config, slot: Slot) -> str:
        report = self.fetch_prices(store, config)  # SourceUnavailable propagates: retried later
        fetched = getattr(report, "summary", lambda: "")()
        if self.stopping.is_set():
            raise Stopped
        late = _missing_close(store, config, slot.day)
        if late and self.now() < slot.due + CLOSE_WAIT:
            # Checking now would judge yesterday's close and send today's alerts a day late.
            raise _NotYet(f"no {slot.day} close yet for {', '.join(late)}; retrying")
        report = run_check(store, config, sink=notifier(config, now=self.now))
        self._tell_template_failures(report)
        checked = _check_summary(report)
        if config.settings.digest.enabled:
            queue_daily_digest(store, config, report.as_of, self.now(), report.reading)
        return "; ".join(p for p in (fetched.rstrip("."), checked) if p)

    def _cpi(self, store: Store, config: Config, day: dt.date) -> str:
        month = next((m for m, d, _ in store.cpi_releases() if d == day.isoformat()), None)
        report = self.fetch_cpi(store, config)
        fetched = getattr(report, "summary", lambda: "")()
        if self.stopping.is_set():
            raise Stopped
        if month and not store.month_released(month):
            raise _NotYet(f"CPI for {month} not published by the source yet; retrying")
        report = run_cpi_check(store, config, day, self.now)
        self._tell_template_failures(report)
        checked = _check_summary(report)
        return "; ".join(p for p in (fetched.rstrip("."), checked) if p)

    def _tell_template_failures(self, report: CheckReport | None) -> None:
        """A rule whose template failed still alerted (plainly); its admins are told why, once per alert."""
        for rule, why in (report.template_failures if report else {}).items():
            self.messages.append(f'Rule "{rule}": {why}')

    # --- the asyncio side ----------------------------------------------------------------------

    async def step(self, notify: Notify | None = None) -> None:
        """One periodic step for a host loop: run what is due in a worker thread, then tell the admins.

        If the host cancels the step (shutdown), the stop flag tells the worker thread to stop at
        its next safe point; the thread is never killed mid-write.
        """
        try:
            await asyncio.to_thread(self.tick)
        except asyncio.CancelledError:
            self.stop()
            raise
        await self._drain(notify)

    def stop(self) -> None:
        """Ask a running job to stop at its next safe point (between fetch and check)."""
        self.stopping.set()

    async def _drain(self, notify: Notify | None) -> None:
        while self.messages:
            message = self.messages.pop(0)
            if notify is None:
                continue
            try:
                await notify(message)
            except Exception:
                log.exception("could not notify admins")


class _NotYet(Exception):
    """The source has not published the day's close or the CPI month yet."""


def _missing_close(store: Store, config: Config, day: dt.date) -> list[str]:
    """The rules' symbols still without ``day``'s close. A symbol without a close for STOPPED_AFTER_SESSIONS
    sessions has stopped arriving (delisted, renamed) and must not hold every rule back each day; a
    one-day gap is still waited for.
    Universe members are not waited for: breadth skips a day on which far fewer members have a close
    than usual (rules/metrics.py) and judges it once the rest has arrived.
    """
    recent = day
    for _ in range(STOPPED_AFTER_SESSIONS):  # the session STOPPED_AFTER_SESSIONS before ``day``
        recent = last_trading_day(recent - dt.timedelta(days=1), config.settings.schedule.exchange)
    symbols = {s for r in config.rules if r.spec.enabled for s in r.symbols}
    return [s for s, last in stale_symbols(store, symbols, day).items() if last is not None and last >= recent]
