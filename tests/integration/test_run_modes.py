"""`rotation-bot run` as a user starts it: hot reload in console mode too, Ctrl-C is a clean stop, the console
without a token only at a terminal."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
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


def test_without_a_token_a_terminal_gets_the_console(config: Path) -> None:
    """Typed at a terminal with no token set, ``run`` is the console (with a line saying so), as before."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    os.close(terminal)
    try:
        os.write(controller, b"/rules\n\x04")  # a line, then Ctrl-D: end of input at a terminal
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(controller)
    assert proc.returncode == 0, err
    assert "No Telegram token set" in err and "running in console mode" in err
    assert "first-rule" in out


def test_without_a_token_a_closed_stdin_is_no_terminal(config: Path) -> None:
    """``run <&-`` (no stdin at all, as some supervisors start a process) fails in one line like ``</dev/null``."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        preexec_fn=lambda: os.close(0),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and done.stderr.startswith("Error: no Telegram token: "), done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_the_console_with_no_stdin_at_all_is_at_end_of_input(config: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "run", "--console"],
        preexec_fn=lambda: os.close(0),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
