"""`rotation-bot run` as a user starts it: hot reload in console mode too, Ctrl-C is a clean stop."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.support.console_bot import CLOSE_RULE, ConsoleBot, small_bot_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return small_bot_config(tmp_path, "first-rule")


def test_console_mode_reloads_an_edited_config(config: Path) -> None:
    bot = ConsoleBot(config)
    try:
        bot.ask_until("/rules", "first-rule")
        config.write_text(config.read_text() + CLOSE_RULE.format(name="added-while-running"))
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
