"""The scheduler driven by a fake clock: trading days only, catch-up once, retries, stop, triggers."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest

from bot.calendar import cpi_slot, daily_slot, is_trading_day
from bot.chat.service import RunOptions, Service
from bot.config.reload import ConfigHolder
from bot.config.settings import Config
from bot.errors import SourceUnavailable
from bot.jobs.scheduler import TICK_SECONDS, BotScheduler
from bot.store import outbox
from bot.store.db import Store
from tests.support.scheduler_helpers import Clock, Fetch, et, mark_done, seed_prices, write_config


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ConfigHolder, Store, Fetch, Fetch]:
    path = tmp_path / "config.toml"
    write_config(path)
    holder = ConfigHolder.load(path)
    store = Store(holder.config.store_path)
    seed_prices(store)
    return holder, store, Fetch(), Fetch()


def make(setup: tuple[ConfigHolder, Store, Fetch, Fetch], clock: Clock) -> BotScheduler:
    holder, _store, prices, cpi = setup
    return BotScheduler(holder, now=clock, fetch_prices=prices, fetch_cpi=cpi)


def test_calendar_knows_holidays_and_weekends() -> None:
    assert is_trading_day(dt.date(2024, 7, 26))
    assert not is_trading_day(dt.date(2024, 7, 27))  # Saturday
    assert not is_trading_day(dt.date(2024, 7, 4))  # Independence Day
    assert is_trading_day(dt.date(2024, 7, 3))  # half day, still a session


def test_friday_run_fires_once(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    clock = Clock(et(2024, 7, 26, 17, 29))
    sched = make(setup, clock)
    assert sched.tick() == []  # before 17:30
    clock.t = et(2024, 7, 26, 17, 31)
    lines = sched.tick()
    assert len(lines) == 1 and lines[0].startswith("daily 2024-07-26")
    assert "1 new alerts" in lines[0]
    assert prices.calls == 1
    assert sched.tick() == []
    assert prices.calls == 1
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"
    assert [a["rule"] for a in store.recent_alerts()] == ["r1"]


def test_saturday_and_holiday_do_not_fire(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 26, 17, 30))
    clock = Clock(et(2024, 7, 27, 18, 0))
    sched = make(setup, clock)
    assert sched.tick() == []
    mark_done(store, "daily", et(2024, 7, 3, 17, 30))
    clock.t = et(2024, 7, 4, 18, 0)
    sched = make(setup, clock)
    assert sched.tick() == []
    assert prices.calls == 0


def test_missed_monday_is_caught_up_once_on_start(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 19, 17, 30))  # Friday done, then the service was down on Monday
    clock = Clock(et(2024, 7, 23, 9, 0))  # start on Tuesday morning
    sched = make(setup, clock)
    assert [line.split(":")[0] for line in sched.tick()] == ["daily 2024-07-22"]
    assert sched.tick() == []
    restarted = make(setup, clock)  # a restart does not repeat it either
    assert restarted.tick() == []
    assert prices.calls == 1


def test_failure_is_reported_and_retried_later(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    prices.error = SourceUnavailable("yahoo", "HTTP 503")
    store.mark_source("yahoo", ok=False, error="HTTP 503")
    clock = Clock(et(2024, 7, 26, 17, 31))
    sched = make(setup, clock)
    assert "failed: yahoo unavailable: HTTP 503" in sched.tick()[0]
    assert sched.messages and "HTTP 503" in sched.messages[0] and "Retrying after 21:46 UTC" in sched.messages[0]
    assert store.source_status()[0]["next_retry"] == "2024-07-26T21:46+00:00"  # the source says when, too
    clock.t = et(2024, 7, 26, 17, 40)
    assert sched.tick() == []  # waiting for the retry time
    prices.error = None
    clock.t = et(2024, 7, 26, 17, 50)
    assert len(sched.tick()) == 1
    assert prices.calls == 2
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"


def test_stop_between_fetch_and_check_leaves_the_slot_open(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    sched = make(setup, Clock(et(2024, 7, 26, 17, 31)))

    class StopDuringFetch(Fetch):
        def __call__(self, store: Store, config: Config) -> object:
            sched.stopping.set()
            return super().__call__(store, config)

    sched.fetch_prices = StopDuringFetch()
    assert sched.tick() == ["daily 2024-07-26: stopped"]
    assert store.recent_alerts() == []  # the check did not run
    assert store.load_states() == {}
    run = store.last_run("daily")
    assert run is not None and run["status"] == "cancelled"
    sched.stopping.clear()
    sched.fetch_prices = prices
    assert len(sched.tick()) == 1  # the next start catches it up


def test_cpi_job_on_release_morning_waits_for_the_figure(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, _, cpi = setup
    store.set_cpi_releases([("2024-06", "2024-07-11", "08:30")])
    mark_done(store, "daily", et(2024, 7, 10, 17, 30))
    clock = Clock(et(2024, 7, 11, 8, 30))
    sched = make(setup, clock)
    assert sched.tick() == []  # before cpi_check (08:35)
    clock.t = et(2024, 7, 11, 8, 36)
    assert "not published" in sched.tick()[0]
    store.upsert_cpi_observations("CPIAUCSL", [("2024-06", 313.0)], vintage="latest")
    clock.t = et(2024, 7, 11, 8, 52)
    lines = sched.tick()
    assert lines == ["cpi 2024-07-11: no CPI rules"]
    assert cpi.calls == 2
    assert sched.tick() == []


def test_slots_follow_config_times(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path, extra='\n[schedule]\ndaily_check = "16:45"\ncpi_check = "08:31"\n')
    config = ConfigHolder.load(path).config
    slot = daily_slot(et(2024, 7, 26, 16, 50), config)
    assert slot is not None and slot.day == dt.date(2024, 7, 26)
    assert cpi_slot(et(2024, 7, 11, 8, 32), config, [("2024-06", "2024-07-11", "08:30")]) is not None
    assert cpi_slot(et(2024, 7, 11, 8, 30), config, [("2024-06", "2024-07-11", "08:30")]) is None  # too early
    # Down on release day: the next morning still finds the release (its job then runs once); weeks later, not.
    late = cpi_slot(et(2024, 7, 12, 8, 32), config, [("2024-06", "2024-07-11", "08:30")])
    assert late is not None and late.day == dt.date(2024, 7, 11)
    assert cpi_slot(et(2024, 8, 1, 8, 32), config, [("2024-06", "2024-07-11", "08:30")]) is None


def test_the_clock_follows_a_reload_without_re_registering(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    """One clock: the slot time is read from the config in force at each tick, so a reload moves it at once."""
    holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 18, 5))
    write_config(holder.path, extra='\n[schedule]\ndaily_check = "18:05"\n')
    assert holder.poll() is not None
    clock = Clock(et(2024, 7, 26, 17, 45))
    sched = make(setup, clock)
    assert sched.tick() == []  # past the old 17:30, before the new 18:05
    clock.t = et(2024, 7, 26, 18, 6)
    assert [line[:16] for line in sched.tick()] == ["daily 2024-07-26"]
    assert prices.calls == 1


async def test_step_catches_up_once_and_a_cancel_stops(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    prices.error = SourceUnavailable("yahoo", "down")
    clock = Clock(et(2024, 7, 26, 19, 0))
    sched = make(setup, clock)
    sent: list[str] = []

    async def notify(text: str) -> None:
        sent.append(text)

    await asyncio.wait_for(sched.step(notify), timeout=30)  # the catch-up
    assert prices.calls == 1
    assert len(sent) == 1 and "yahoo unavailable: down" in sent[0]
    await asyncio.wait_for(sched.step(notify), timeout=30)  # the retry is not due yet
    assert prices.calls == 1

    entered, release = threading.Event(), threading.Event()

    def slow(store: Store, config: Config) -> object:
        entered.set()
        release.wait(30)
        return None

    sched.fetch_prices = slow
    clock.t = et(2024, 7, 26, 19, 16)  # past the 15-minute retry
    task = asyncio.create_task(sched.step(notify))
    await asyncio.to_thread(entered.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert sched.stopping.is_set()


async def test_the_service_owns_its_jobs_from_the_run_options(tmp_path: Path) -> None:
    """``run`` decides once (RunOptions); the service builds the scheduler on that clock and the config watcher."""
    path = tmp_path / "config.toml"
    write_config(path, extra="\n[telegram]\nadmin_chats = [7]\n")
    holder = ConfigHolder.load(path)
    store = Store(holder.config.store_path)
    seed_prices(store)
    assert [j.name for j in Service(holder.config, store, path).periodic] == ["config-watch"]

    clock = Clock(et(2024, 7, 26, 18, 0))
    service = Service(holder.config, store, path, RunOptions(schedule=True, clock=clock))
    jobs = {j.name: j for j in service.periodic}
    assert set(jobs) == {"config-watch", "scheduler"}
    assert jobs["scheduler"].run_first and jobs["scheduler"].seconds() == TICK_SECONDS  # the catch-up at once
    assert service.scheduler is not None and service.scheduler.now is clock

    def admin_texts() -> list[str]:
        return [r.text for r in outbox.pending_rows(store) if (r.alert_key or "").startswith(outbox.ADMIN)]

    write_config(path, threshold="0.3", extra="\n[telegram]\nadmin_chats = [7]\n")
    await jobs["config-watch"].fn()
    assert service.config.rules[0].spec.threshold == 0.3
    assert service.scheduler.holder.config is service.config  # one config for commands and jobs
    assert admin_texts() == ["config.toml reloaded: 1 rules; changed r1"]

    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    service.scheduler.fetch_prices = Fetch()
    service.scheduler.fetch_prices.error = SourceUnavailable("yahoo", "down")
    await jobs["scheduler"].fn()
    assert len(admin_texts()) == 2 and "yahoo unavailable: down" in admin_texts()[1]
    await service.stop_periodic()
    assert service.scheduler.stopping.is_set()


def test_daily_job_waits_for_the_days_close_then_checks(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    """Yahoo late on Monday: no check on Friday's data (alerts a day late); retried, then run with Monday's close."""
    holder, store, _prices, cpi = setup
    mark_done(store, "daily", et(2024, 7, 26, 17, 30))
    arrived = False

    def fetch(s: Store, config: Config) -> object:
        if arrived:
            day = pd.DatetimeIndex([pd.Timestamp("2024-07-29")], name="date")
            s.upsert_prices("AAA", pd.DataFrame({"close": [43.0]}, index=day))
            s.upsert_prices("BBB", pd.DataFrame({"close": [100.0]}, index=day))
        return None

    clock = Clock(et(2024, 7, 29, 17, 31))
    sched = BotScheduler(holder, now=clock, fetch_prices=fetch, fetch_cpi=cpi)
    assert sched.tick() == ["daily 2024-07-29: no 2024-07-29 close yet for AAA, BBB; retrying"]
    run = store.last_run("daily")
    assert run is not None and run["status"] == "waiting"
    assert "r1" not in store.load_states()  # no check ran on old data
    arrived = True
    clock.t = et(2024, 7, 29, 17, 50)  # past the 15-minute retry
    lines = sched.tick()
    assert len(lines) == 1 and lines[0].startswith("daily 2024-07-29") and "retrying" not in lines[0]
    assert store.load_states()["r1"].last_day == dt.date(2024, 7, 29)


def test_daily_job_checks_anyway_when_the_close_never_comes(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, _prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 26, 17, 30))
    clock = Clock(et(2024, 7, 29, 23, 31))  # six hours after the slot
    lines = make(setup, clock).tick()
    assert len(lines) == 1 and "retrying" not in lines[0]
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"


def test_a_symbol_that_stopped_arriving_earlier_does_not_hold_the_check(
    setup: tuple[ConfigHolder, Store, Fetch, Fetch], tmp_path: Path
) -> None:
    holder, store, _prices, cpi = setup
    extra = '[[rules]]\nname = "old"\nmetric = "close"\nsymbol = "OLD"\ncondition = "above"\nthreshold = 1\n'
    write_config(tmp_path / "config.toml", extra=extra)
    holder = ConfigHolder.load(tmp_path / "config.toml")
    store.upsert_prices("OLD", pd.DataFrame({"close": [5.0]}, index=pd.DatetimeIndex(["2024-07-19"], name="date")))
    mark_done(store, "daily", et(2024, 7, 26, 17, 30))

    def fetch(s: Store, config: Config) -> object:
        day = pd.DatetimeIndex([pd.Timestamp("2024-07-29")], name="date")
        s.upsert_prices("AAA", pd.DataFrame({"close": [43.0]}, index=day))
        s.upsert_prices("BBB", pd.DataFrame({"close": [100.0]}, index=day))
        return None

    sched = BotScheduler(holder, now=Clock(et(2024, 7, 29, 17, 31)), fetch_prices=fetch, fetch_cpi=cpi)
    [line] = sched.tick()
    assert "retrying" not in line
    assert store.load_states()["r1"].last_day == dt.date(2024, 7, 29)


def test_an_outage_is_told_once_and_its_end_once(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    prices.error = SourceUnavailable("yahoo", "HTTP 503")
    clock = Clock(et(2024, 7, 26, 17, 31))
    sched = make(setup, clock)
    for minutes in range(0, 24 * 60, 15):  # a day of retries
        clock.t = et(2024, 7, 26, 17, 31) + dt.timedelta(minutes=minutes)
        sched.tick()
    assert len(sched.messages) == 1 and "HTTP 503" in sched.messages[0]
    prices.error = None
    clock.t += dt.timedelta(minutes=16)
    sched.tick()
    assert len(sched.messages) == 2 and sched.messages[1].startswith("The daily job for 2024-07-26 ran after")


def test_holidays_are_known_years_ahead() -> None:
    """A bot left running for years still skips Christmas: the calendar is rebuilt for the year asked."""
    today = dt.date.today()
    christmas = dt.date(today.year + 3, 12, 25)
    assert not is_trading_day(christmas) or christmas.weekday() >= 5
    assert not is_trading_day(dt.date(2028, 12, 25))


def test_the_end_of_an_outage_is_reported_after_a_restart(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, prices, _ = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    prices.error = SourceUnavailable("yahoo", "HTTP 503")
    first = make(setup, Clock(et(2024, 7, 26, 17, 31)))
    first.tick()
    assert len(first.messages) == 1
    prices.error = None
    restarted = make(setup, Clock(et(2024, 7, 26, 18, 0)))  # a new process: nothing in memory
    restarted.tick()
    assert len(restarted.messages) == 1 and "ran after earlier failures" in restarted.messages[0]


def test_a_one_day_gap_in_a_rule_symbol_is_still_waited_for(setup: tuple[ConfigHolder, Store, Fetch, Fetch]) -> None:
    _holder, store, _prices, _ = setup
    store.db.execute("DELETE FROM prices WHERE symbol = 'AAA' AND date = '2024-07-26'")
    store.db.execute("DELETE FROM price_columns")
    mark_done(store, "daily", et(2024, 7, 26, 17, 30))
    lines = make(setup, Clock(et(2024, 7, 29, 17, 31))).tick()
    assert lines == ["daily 2024-07-29: no 2024-07-29 close yet for AAA, BBB; retrying"]


def test_a_store_that_cannot_be_written_is_one_warning_per_outage_then_the_slot_runs(
    setup: tuple[ConfigHolder, Store, Fetch, Fetch], caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the soak: the job's first write (its run record) raised out of tick(), so the periodic job logged a
    traceback every tick for as long as the store was read-only or full, and the slot was never reported."""
    holder, store, prices, cpi = setup
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    broken = {"on": True}

    def open_store(config: Config) -> Store:
        s = Store(config.store_path)
        if broken["on"]:
            s.db.execute("PRAGMA query_only = 1")  # SQLite's own error of a read-only file
        return s

    clock = Clock(et(2024, 7, 26, 17, 31))
    sched = BotScheduler(holder, now=clock, fetch_prices=prices, fetch_cpi=cpi, open_store=open_store)
    for _ in range(3):
        [line] = sched.tick()
        assert "cannot record" in line and str(store.path) in line, line
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "cannot record" in r.getMessage()]
    assert len(warnings) == 1 and not any(r.exc_info for r in caplog.records)
    broken["on"] = False
    [line] = sched.tick()
    assert "new alerts" in line
    run = store.last_run("daily")
    assert run is not None and run["status"] == "ok"
