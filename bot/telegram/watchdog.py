"""systemd's notify protocol, and a watchdog fed only while the bot polls Telegram (deploy/rotation-bot.service).

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET``, a Unix datagram socket, and with ``WatchdogSec=`` also
``WATCHDOG_USEC``. The protocol is one datagram per message (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``;
sd_notify(3)), so it is written here rather than taken from a library. Outside systemd nothing is set and every
call does nothing.

``WATCHDOG=1`` is sent by a periodic job of the event loop, so a loop blocked by a call that never returns stops
feeding it, and only while getUpdates keeps going out: a poll loop that stopped for any reason leaves the process
up, answering nobody. systemd then kills the bot after ``WatchdogSec`` and starts it again. (A token revoked
mid-run is told apart at once: PTB ends its polling task on it, so the bot stops itself and says so, and every
start after that refuses the token in one line.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from telegram.error import InvalidToken
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

# The longest quiet spell of a healthy poll loop: a long poll's read timeout (30 s), plus PTB's longest backoff
# after a failed getUpdates (30 s), twice over. Quieter than this, polling has stopped.
POLL_STALE_SECONDS = 120.0
MIN_PING_SECONDS = 0.01  # a WatchdogSec of a few microseconds must not turn the ping into a busy loop
TOKEN_REFUSED = "token refused"  # in app.bot_data: Telegram refused the token while polling
_failing: set[str] = set()  # NOTIFY_SOCKET addresses whose last send failed (and was logged)


def sd_notify(state: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send ``state`` to systemd; whether it was sent. Never raises: a missing socket must not stop the bot."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    try:
        if not address.startswith(("/", "@")):  # "@": the abstract namespace
            raise OSError("not a Unix socket path, so systemd is not told the bot's state")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)  # a full queue on systemd's side must not block the event loop
            sock.connect("\0" + address[1:] if address.startswith("@") else address)
            sock.sendall(state.encode())
    except OSError as exc:
        if address not in _failing:  # once until a send works again: a ping every 30 s must not flood the log
            _failing.add(address)
            log.warning("could not tell systemd %s (NOTIFY_SOCKET %s: %s)", state, address, exc.strerror or exc)
        return False
    _failing.discard(address)
    return True


def watchdog_seconds(environ: Mapping[str, str] = os.environ) -> float | None:
    """How often to feed the watchdog (half of ``WatchdogSec``, as sd_watchdog_enabled(3) advises), or None."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):  # set for another process (we were started by one that was watched)
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return max(MIN_PING_SECONDS, usec / 2e6) if usec > 0 else None


class Watchdog:
    """Tells systemd the bot is ready once polling begins, and feeds its watchdog while polling goes on."""

    def __init__(
        self,
        notify: Callable[[str], bool] = sd_notify,
        clock: Callable[[], float] = time.monotonic,
        stale_after: float = POLL_STALE_SECONDS,
    ) -> None:
        self.notify = notify
        self.clock = clock
        self.stale_after = stale_after
        self.last_poll: float | None = None
        self._starved = False

    def polled(self) -> None:
        """A getUpdates request began or ended. The first one is the bot's READY."""
        if self.last_poll is None:
            self.notify("READY=1")
        self.last_poll = self.clock()
        self._starved = False

    async def feed(self) -> None:
        """One ping, if polling still goes on (run from the event loop every ``watchdog_seconds``)."""
        if self.last_poll is None:
            return  # still starting: systemd's TimeoutStartSec covers that
        quiet = self.clock() - self.last_poll
        if quiet > self.stale_after:
            if not self._starved:
                self._starved = True
                log.error(
                    "no getUpdates for %.0f s: polling has stopped; the watchdog is no longer fed, so systemd "
                    "restarts the bot",
                    quiet,
                )
            return
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")


def stop_on_refusal(app: Any) -> None:
    """Telegram refused the token while polling (revoked at @BotFather): PTB ends its polling task and would leave
    the process up, answering nobody. Stop the updater here (``run_polling`` would re-raise the refusal while
    stopping and skip the rest of the shutdown), then the whole bot; ``run_telegram`` says why."""
    if app.bot_data.get(TOKEN_REFUSED):
        return
    app.bot_data[TOKEN_REFUSED] = True

    async def stop() -> None:
        if app.updater is not None and app.updater.running:
            with contextlib.suppress(InvalidToken):
                await app.updater.stop()
        app.stop_running()

    app.bot_data["stopping"] = asyncio.get_running_loop().create_task(stop())


class PollingRequest(HTTPXRequest):
    """PTB's HTTP client for getUpdates, telling the watchdog of each request as it goes out and comes back, and
    ``on_refused`` of an answer that refuses the token (401 or 404, PTB's ``InvalidToken``)."""

    def __init__(self, watchdog: Watchdog, on_refused: Callable[[], None] = lambda: None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watchdog = watchdog
        self.on_refused = on_refused

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.watchdog.polled()
        try:
            code, payload = await super().do_request(*args, **kwargs)
        finally:
            self.watchdog.polled()
        if code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):
            self.on_refused()
        return code, payload
