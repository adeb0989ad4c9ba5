"""`rotation-bot run` as a user starts it: hot reload in console mode too, Ctrl-C is a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.store import Store
from tests.support.factories import price_frame

RULE = """
[[rules]]
name = "{name}"
metric = "close"
symbol = "AAA"
condition = "above"
threshold = 1
"""


class Bot:
    """``run --console`` in a subprocess, its stdout collected line by line."""

    def __init__(self, config: Path) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run", "--console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
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
        deadline = time.monotonic() + timeout
        while not any(seen in line for line in self.lines):
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, f"never saw {seen!r}: {''.join(self.lines)}"
            self.send(command)
            time.sleep(0.5)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("AAA", price_frame(np.arange(1.0, 30.0)))
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n' + RULE.format(name="first-rule"))
    return path


def test_console_mode_reloads_an_edited_config(config: Path) -> None:
    bot = Bot(config)
    try:
        bot.ask_until("/rules", "first-rule")
        config.write_text(config.read_text() + RULE.format(name="added-while-running"))
        bot.ask_until("/rules", "added-while-running")
    finally:
        bot.proc.kill()
        bot.proc.communicate()


def test_ctrl_c_stops_the_bot_cleanly(config: Path) -> None:
    bot = Bot(config)
    bot.ask_until("/rules", "first-rule")
    bot.proc.send_signal(signal.SIGINT)
    _, err = bot.proc.communicate(timeout=60)
    assert bot.proc.returncode == 0, err
    assert "Aborted" not in err and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "Stopped."
