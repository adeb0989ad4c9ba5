"""The bot process of the soak: ``rotation-bot run`` itself, with three seams swapped for the simulation.

The driver starts this as ``python -m soak.runner WORKDIR`` and may ``kill -9`` it at any moment, so it is the
real command (the run lock, the start-up checks, the edit settle, the PTB ``Application`` with its handlers, rate
limiter and delivery job, the scheduler, the config watcher), not a re-assembly of it. What is swapped:

- the clock: the run options' clock (the scheduler's ``now``, which the Yahoo source's "today" follows) reads
  the simulated time the driver writes to ``control.json``, and the service's scheduler job ticks every half
  second, because simulated days pass in seconds;
- yfinance: ``yfinance.download`` answers from the world's rows up to the simulated day, as Yahoo would the day
  after, with the Yahoo faults the driver switches on (down, partial answers, a bad row);
- the store faults: the driver's "read-only" or "full" is SQLite's own error on every connection the bot opens
  (``PRAGMA query_only`` / ``max_page_count``), as a read-only file or a full disk gives it.

The request timeout is shortened (the driver's hangs and late answers are scaled to it) so a soak day takes
seconds; the delivery logic's ratios (the slow retry waits six timeouts) are unchanged.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from soak.world import World, all_prices

NY = ZoneInfo("America/New_York")
REQUEST_TIMEOUT = 2.0
TICK_SECONDS = 0.5
FAULT_POLL_SECONDS = 0.2
NO_LIMIT = 1073741823  # SQLite's default max_page_count


class Control:
    """The driver's side of the simulation, read from ``control.json`` (replaced atomically by the driver)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
            return data
        except (OSError, ValueError):
            return {}

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(str(self.read()["now"]))

    def fault(self, kind: str) -> dict[str, Any] | None:
        """The fault of ``kind`` in force at the simulated now, if any."""
        data = self.read()
        fault = data.get(kind)
        if not fault or dt.datetime.fromisoformat(str(data["now"])) >= dt.datetime.fromisoformat(fault["until"]):
            return None
        return dict(fault)


class SimYahoo:
    """Stands in for ``yfinance.download``: the rows Yahoo would give on the simulated day, or a fault."""

    def __init__(self, world: World, control: Control) -> None:
        self.prices = all_prices(world)
        self.control = control

    def __call__(self, tickers: list[str], **kwargs: Any) -> pd.DataFrame:
        from tests.support.fake_yahoo import empty_ohlcv, yf_shape

        logger = logging.getLogger("yfinance")
        now = self.control.now().astimezone(NY)
        last = (
            pd.Timestamp(now.date())
            if now.time() >= dt.time(16, 30)
            else pd.Timestamp(now.date()) - pd.Timedelta(days=1)
        )
        start = pd.Timestamp(kwargs["start"])
        fault = self.control.fault("yahoo") or {}
        mode, hit = fault.get("mode"), set(fault.get("symbols", []))
        if mode == "down":  # what yfinance 1.x logs with no network, before it reports every ticker missing
            for t in tickers:
                logger.error("['%s']: curl: (6) Could not resolve host: query2.finance.yahoo.com", t)
            return yf_shape({t: empty_ohlcv() for t in tickers})
        frames: dict[str, pd.DataFrame] = {}
        failed: list[str] = []
        for t in sorted({t.upper() for t in tickers}):
            rows = self.prices.get(t)
            if rows is None or (mode == "partial" and t in hit):
                frames[t] = empty_ohlcv()
                failed.append(t)
                continue
            rows = rows[(rows.index >= start) & (rows.index <= last)]
            frame = pd.DataFrame(
                {
                    "Open": rows["close"],
                    "High": rows["close"],
                    "Low": rows["close"],
                    "Close": rows["close"],
                    "Adj Close": rows["adj_close"],
                    "Volume": 1000,
                },
                index=pd.DatetimeIndex(rows.index, name="Date"),
            )
            if mode == "bad_row" and t in hit and len(frame):
                bad = float(fault.get("value", "nan"))
                frame.loc[frame.index[-1], ["Close", "Adj Close"]] = bad
            frames[t] = frame
        if failed:
            logger.error("\n%d Failed downloads:", len(failed))
            logger.error("%s: YFTzMissingError('possibly delisted; no timezone found')", failed)
        return yf_shape(frames)


def simulate_service(world: World, control: Control) -> None:
    """The ``Service`` that ``run`` builds, on the simulated clock, ticking fast, with the store-fault switch.

    ``run`` decides its options once (``RunOptions``); here they get the simulated clock, and the service's own
    scheduler job ticks every ``TICK_SECONDS`` of wall time, since simulated days pass in seconds.
    """
    import dataclasses

    from bot.chat.service import Periodic, RunOptions, Service
    from bot.config import Config
    from bot.store import Store

    def break_store(store: Store) -> None:
        fault = control.fault("store") or {}
        mode = fault.get("mode")
        store.db.execute(f"PRAGMA query_only = {1 if mode == 'readonly' else 0}")
        if mode == "full":
            pages = store.db.execute("PRAGMA page_count").fetchone()[0]
            store.db.execute(f"PRAGMA max_page_count = {pages}")
        else:
            store.db.execute(f"PRAGMA max_page_count = {NO_LIMIT}")

    def open_store(config: Config) -> Store:
        store = Store(config.store_path)
        break_store(store)
        return store

    real_init = Service.__init__
    alive = world.path / "alive"

    def init(
        self: Service, config: Config, store: Store, config_path: Path | None = None, options: RunOptions | None = None
    ) -> None:
        options = dataclasses.replace(options or RunOptions(), clock=control.now)
        real_init(self, config, store, config_path, options)
        if self.scheduler is None:
            return
        self.scheduler.open_store = open_store
        run_scheduler = self.run_scheduler

        async def scheduler_step() -> None:
            await run_scheduler()
            alive.write_text(str(os.getpid()))

        async def store_faults() -> None:
            break_store(self.store)

        for job in self.periodic:
            if job.name == "scheduler":
                job.interval, job.fn = TICK_SECONDS, scheduler_step
        self.periodic.append(Periodic("soak-store-faults", FAULT_POLL_SECONDS, store_faults, run_first=True))

    Service.__init__ = init  # type: ignore[method-assign]


def warm_up(world: World, control: Control) -> None:
    """Before serving, draw each rule's alert chart and track record as the check's sink does on an alert.

    A long-lived bot has drawn them all; a process restarted by a kill -9 has not, and sits about 100 MB lower
    until its first alerts. Without this the memory line would compare a fresh process with a warm one (it once
    read 190 MB after day 10 and 264 MB after day 60 with no leak at all). Best effort: a store fault may be on.
    """
    from bot.answers import chart_for_alert
    from bot.config import load_config
    from bot.market import stats_lines
    from bot.store import Store
    from rules import Alert

    config = load_config(world.config_path)
    store = Store(world.store_path)
    day = control.now().date()
    try:
        enabled = [rule for rule in config.rules if rule.spec.enabled]
        stats_lines(store, config, [(rule.name, day) for rule in enabled])
        for rule in enabled:
            chart_for_alert(store, config, Alert(rule=rule.name, date=day, value=1.0, message="warm-up"))
    except Exception as exc:
        logging.getLogger(__name__).warning("soak warm-up stopped early: %s", exc)
    finally:
        store.close()


def main(folder: Path) -> None:
    import yfinance

    import bot.telegram.app
    from bot.cli import main as cli

    world = World.load(folder)
    control = Control(world.control_path)
    yfinance.download = SimYahoo(world, control)
    simulate_service(world, control)  # the scheduler's clock is also the Yahoo source's "today"
    app = bot.telegram.app
    app.build_application = functools.partial(app.build_application, request_timeout=REQUEST_TIMEOUT)  # type: ignore[assignment]
    os.environ["TELEGRAM_BOT_TOKEN"] = "123456:SOAK"
    os.chdir(folder)
    warm_up(world, control)
    cli(["--config", str(world.config_path), "run"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
