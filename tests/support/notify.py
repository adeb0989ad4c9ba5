"""A socket of the test's own in systemd's place: the bot's notify datagrams (READY=1, WATCHDOG=1, …) land here."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager


class NotifySocket:
    """A Unix datagram socket in the abstract namespace; ``address`` is what NOTIFY_SOCKET names."""

    def __init__(self) -> None:
        self.address = f"@rotation-bot-test-{os.getpid()}-{os.urandom(4).hex()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.address[1:])

    def close(self) -> None:
        self.sock.close()

    def drain(self) -> list[str]:
        """Every datagram already queued, at once (sends on a Unix socket are queued by the time they return)."""
        self.sock.setblocking(False)
        out: list[str] = []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out

    def wait_for(self, state: str, timeout: float = 120) -> list[str]:
        """Block until ``state`` arrives; every datagram received up to it."""
        self.sock.setblocking(True)
        self.sock.settimeout(timeout)
        seen: list[str] = []
        while state not in seen:
            try:
                seen.append(self.sock.recv(4096).decode())
            except TimeoutError:
                raise AssertionError(f"no {state} within {timeout} s; got {seen}") from None
        return seen

    async def next(self, timeout: float = 30) -> str:
        """The next datagram, awaited without blocking the event loop (the bot runs on it)."""
        self.sock.setblocking(False)
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 4096), timeout)
        return data.decode()


@contextmanager
def notify_socket() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    try:
        yield sock
    finally:
        sock.close()
