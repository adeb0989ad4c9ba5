"""``rotation-bot run --console`` in a subprocess, as a user starts it without a token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from bot.store import Store
from bot.store.lock import lock_path
from tests.support.factories import price_frame


def start_console(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run", "--console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell's background job (a test run started with `&`) ignores SIGINT, and a child inherits that: the
        # bot under test gets Ctrl-C's default back, as in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
    )


def first_bot_on(config: Path) -> Iterator[subprocess.Popen[str]]:
    """A console bot on ``config``'s store (``s.sqlite`` beside it), yielded once it holds the run lock; killed
    after the test if still running."""
    proc = start_console(config)
    lock = lock_path(config.parent / "s.sqlite")
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip() == str(proc.pid)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the first bot never took the lock"
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


class ConsoleBot:
    """A console bot whose stdout is collected line by line while the test talks to it."""

    def __init__(self, config: Path) -> None:
        self.proc = start_console(config)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def ask_until(self, command: str, seen: str, timeout: float = 60) -> None:
        """Send ``command`` every half second until a line with ``seen`` appears."""
        deadline = time.monotonic() + timeout
        while not any(seen in line for line in self.lines):
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, f"never saw {seen!r}: {''.join(self.lines)}"
            self.send(command)
            time.sleep(0.5)


CLOSE_RULE = """
[[rules]]
name = "{name}"
metric = "close"
symbol = "AAA"
condition = "above"
threshold = 1
"""


def small_bot_config(folder: Path, rule: str = "a-above-1") -> Path:
    """A store with 29 closes of AAA and a config.toml with one rule on it: enough for a bot to answer."""
    store = Store(folder / "s.sqlite")
    store.upsert_prices("AAA", price_frame([float(x) for x in range(1, 30)]))
    store.close()
    path = folder / "config.toml"
    path.write_text(f'[store]\npath = "{folder / "s.sqlite"}"\n' + CLOSE_RULE.format(name=rule))
    return path
