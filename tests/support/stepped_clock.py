"""A clock the test moves: the bot's flood waits and delivery pauses end when the test steps past them.

``build(service, clock=clock.clock)`` gives it to the Application (bot/telegram/floodcontrol.py ``Clock``). A
sleeper wakes only once ``advance`` has carried the time past its end, so a test can hold a chat in its
wait for as long as it likes and never waits for real; ``sleepers`` says how many are waiting now.
"""

from __future__ import annotations

import asyncio
import time

from bot.telegram.floodcontrol import Clock


class SteppedClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleepers = 0
        self._moved: asyncio.Event | None = None
        self.clock = Clock(monotonic=self.monotonic, sleep=self.sleep)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        end = self.now + seconds
        self.sleepers += 1
        try:
            await asyncio.sleep(0)  # a sleep always yields, as asyncio.sleep does
            while self.now < end:
                self._moved = self._moved or asyncio.Event()
                await self._moved.wait()
        finally:
            self.sleepers -= 1

    def advance(self, seconds: float) -> None:
        """Move the time on and wake every sleeper (those whose end has come go on)."""
        self.now += seconds
        moved, self._moved = self._moved, None
        if moved is not None:
            moved.set()

    async def wait_sleepers(self, n: int, timeout: float = 20.0) -> None:
        """Until ``n`` tasks sleep on this clock (each is waiting out something the test will step past)."""
        deadline = time.monotonic() + timeout
        while self.sleepers < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.sleepers} of {n} sleepers on the stepped clock after {timeout:g} s")
            await asyncio.sleep(0.01)
