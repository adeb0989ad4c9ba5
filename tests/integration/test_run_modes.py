"""`rotation-bot run` as a user starts it: hot reload in console mode too, Ctrl-C is a clean stop."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from bot.store import Store
from tests.support.console_bot import ConsoleBot
from tests.support.factories import price_frame

RULE = """
[[rules]]
name = "{name}"
metric = "close"
symbol = "AAA"
condition = "above"
threshold = 1
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("AAA", price_frame(np.arange(1.0, 30.0)))
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n' + RULE.format(name="first-rule"))
    return path


def test_console_mode_reloads_an_edited_config(config: Path) -> None:
    bot = ConsoleBot(config)
    try:
        bot.ask_until("/rules", "first-rule")
        config.write_text(config.read_text() + RULE.format(name="added-while-running"))
        bot.ask_until("/rules", "added-while-running")
    finally:
        bot.proc.kill()
        bot.proc.communicate()


def test_ctrl_c_stops_the_bot_cleanly(config: Path) -> None:
    bot = ConsoleBot(config)
    bot.ask_until("/rules", "first-rule")
    bot.proc.send_signal(signal.SIGINT)
    _, err = bot.proc.communicate(timeout=60)
    assert bot.proc.returncode == 0, err
    assert "Aborted" not in err and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "Stopped."
