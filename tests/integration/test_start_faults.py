"""Start-up faults of `run`: an api_base_url whose getMe answer is JSON but no bot account, and a token_file that
is not a short UTF-8 file. Each is one line and exit 1, never a traceback, and never the token file's bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.config import load_config
from bot.config.tokenfile import MAX_BYTES
from tests.support.fake_telegram import Failure, FakeTelegram
from tests.support.tg_helpers import ADMIN, TOKEN


def config(tmp_path: Path, telegram: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "store.sqlite"\n[telegram]\nallowed_chats = [{ADMIN}]\n{telegram}')
    return path


@pytest.mark.parametrize("body", ['{"ok":true,"result":{"foo":1}}', "[1,2,3]"], ids=["no-user", "a-list"])
def test_a_getme_answer_that_is_no_bot_account_is_one_line(tmp_path: Path, body: str) -> None:
    """A whole process, as a user starts it: PTB read these unchecked (TypeError: User.__init__() missing 3
    required positional arguments; list indices must be integers)."""
    with FakeTelegram() as tg:
        tg.fail_next("getMe", Failure("json", body=body))
        path = config(tmp_path, f'api_base_url = "{tg.base_url}"\n')
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
        command = [sys.executable, "-m", "bot", "--config", str(path), "run"]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"Error: {tg.base_url} does not answer as the Telegram Bot API (its answer to getMe is not a bot account): "
        "check [telegram] api_base_url\n"
    )


def token_error(tmp_path: Path, token_file: str | Path) -> str:
    """What `run` says of this token_file, checked to be one line with exit status 1."""
    path = config(tmp_path, f'token_file = "{token_file}"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "run"], env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    (line,) = result.stderr.splitlines()
    return line


def test_a_token_file_that_is_not_utf8_is_named_without_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"\xff\xfe123456:AAHsecret\n")
    line = token_error(tmp_path, "token")
    assert line == (
        "Error: telegram.token_file token is not UTF-8 text (byte 0xff at offset 0): "
        "a token file holds just the token, as @BotFather gave it"
    )


def test_a_device_a_pipe_or_a_folder_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """/dev/zero was read whole (3.8 GB in 3 s, then a MemoryError); a pipe would hold the start until written."""
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    for name, kind in [("/dev/zero", "a device"), ("pipe", "a pipe"), ("folder", "a folder")]:
        assert token_error(tmp_path, name) == (
            f"Error: telegram.token_file {name} is {kind}, not a regular file: "
            "point it at a file holding just the token"
        )


def test_a_long_file_is_refused_after_a_few_hundred_bytes(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"{TOKEN}\n" + "x" * MAX_BYTES)
    assert token_error(tmp_path, "token") == (
        f"Error: telegram.token_file token is longer than {MAX_BYTES} bytes: a token file holds just the token "
        "(about 46 characters, like 123456789:AAH…)"
    )


def test_an_empty_token_file_is_named_not_taken_for_console_mode(tmp_path: Path) -> None:
    """It said 'No Telegram token set (environment variable TELEGRAM_BOT_TOKEN is empty): running in console mode'."""
    (tmp_path / "token").write_text("\n")
    assert token_error(tmp_path, "token") == (
        "Error: telegram.token_file token is empty: "
        "put the bot's token from @BotFather in it (run --console needs none)"
    )


def test_a_token_file_with_a_bom_and_a_newline_gives_the_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_bytes(b"\xef\xbb\xbf" + TOKEN.encode() + b"\r\n")
    assert load_config(config(tmp_path, 'token_file = "token"\n')).token() == TOKEN
