"""Another chat's ``/ratio`` while one chat floods the bot, through the real PTB Application.

The Application polls the project's fake Bot API on 127.0.0.1 (tests/support/fake_telegram.py), as
in the integration tests; latency is from the update being queued at the server to the reply
arriving there. Baseline: the same ``/ratio`` with the bot idle, in the same run. Floods: 30
``/chart ratio max`` from one chat (heavy: a full-history chart each), and 200 light commands from
one chat; each is followed at once by one ``/ratio`` from another chat. Goal: flooded ≤ 3× idle + 1 s.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from benchmarks import common
from benchmarks.common import Result, copy_store, env, fmt_time, remove_store, report
from bot.chat.service import Service
from bot.config.settings import parse_config
from bot.store.db import Store
from bot.telegram.app import build_application
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import TOKEN, running

FLOODER, OTHER = 111, 222
HEAVY, LIGHT = ("/chart ratio max", 30), ("/ratio", 200)
IDLE_RUNS = 5
DRAIN_TIMEOUT = 300.0  # the flood's own answers, before the next measurement (a guard against a hang only)


async def _answered(tg: FakeTelegram, chat: int, count: int, timeout: float = DRAIN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while len(tg.sent(chat)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"chat {chat}: {len(tg.sent(chat))} of {count} answers after {timeout:g} s")
        await asyncio.sleep(0.002)


async def _latency(tg: FakeTelegram, text: str = "/ratio") -> float:
    """Seconds from ``OTHER``'s command reaching the server to the bot's answer reaching it."""
    before = len(tg.sent(OTHER))
    t0 = time.perf_counter()
    tg.push_text(OTHER, text)
    await _answered(tg, OTHER, before + 1)
    return time.perf_counter() - t0


async def _flooded(tg: FakeTelegram, flood: tuple[str, int]) -> float:
    text, n = flood
    for _ in range(n):
        tg.push_text(FLOODER, text)
    latency = await _latency(tg)
    # The flood is over when a last /start of the flooder is answered: each chat is answered in its order.
    greetings = sum("👋" in r.text for r in tg.sent(FLOODER))
    tg.push_text(FLOODER, "/start")
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while sum("👋" in r.text for r in tg.sent(FLOODER)) == greetings:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the flood of {text} was not worked off within {DRAIN_TIMEOUT:g} s")
        await asyncio.sleep(0.01)
    return latency


async def _measure(service: Service, tg: FakeTelegram) -> tuple[float, float, float]:
    app = build_application(service, TOKEN, request_timeout=30.0)
    async with running(app):
        await _latency(tg)  # warm-up: first query on a fresh store
        idle = statistics.median([await _latency(tg) for _ in range(IDLE_RUNS)])
        heavy = await _flooded(tg, HEAVY)
        light = await _flooded(tg, LIGHT)
    return idle, heavy, light


def run() -> Result:
    e = env()
    path = common.work() / "flood.sqlite"
    copy_store(e.path, path)  # the bot writes (delivery, caches): never into the shared benchmark store
    try:
        with FakeTelegram() as tg:
            telegram = {"api_base_url": tg.base_url, "allowed_chats": [FLOODER, OTHER]}
            settings = {"store": {"path": str(path)}, "telegram": telegram}
            config = parse_config(settings, path=common.work() / "config.toml")
            store = Store(path)
            try:
                idle, heavy, light = asyncio.run(_measure(Service(config, store), tg))
            finally:
                store.close()
    finally:
        remove_store(path)
    worst = max(heavy, light)
    limit = 3 * idle + 1.0
    return report(
        Result(
            "another chat's /ratio under a flood",
            f"{fmt_time(heavy)} after {HEAVY[1]} × {HEAVY[0]}, {fmt_time(light)} after {LIGHT[1]} × {LIGHT[0]}",
            f"{fmt_time(idle)} idle (median of {IDLE_RUNS})",
            f"{worst / idle:.1f}×",
            f"goal ≤ 3× idle + 1 s = {fmt_time(limit)}",
            worst <= limit,
            f"real PTB Application against the fake Bot API ({e.kind})",
        )
    )
