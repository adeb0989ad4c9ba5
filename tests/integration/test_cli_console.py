"""`rotation-bot run --console` through the real CLI: commands on stdin, answers and the digest on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.db import Store
from tests.support.factories import seed_digest
from tests.support.tg_helpers import load_prices


def test_cli_run_console_exits_at_eof(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    store = Store(tmp_path / "s.sqlite")
    load_prices(store)
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n')
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(cfg), "run", "--console"], input="/ratio\n")
    assert result.exit_code == 0, result.output
    assert "^RUT / ^GSPC = 0.4200" in result.stdout


def test_run_without_a_token_and_no_terminal_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under systemd (stdin is /dev/null) a missing token must be a failure the unit restarts and logs, not a
    console session that reads end of input and exits 0."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n')
    result = CliRunner().invoke(main, ["--config", str(cfg), "run"], input="/subscribe\n")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Error: no Telegram token: the environment variable TELEGRAM_BOT_TOKEN is empty. Set it to the token "
        "@BotFather gave (or name a file in [telegram] token_file), or run `rotation-bot run --console` for the "
        "console"
    ]
    assert result.stdout == "" and not (tmp_path / "s.sqlite").exists()  # refused before the store is touched
    (tmp_path / "token").write_text("\n")
    cfg.write_text(cfg.read_text() + '[telegram]\ntoken_file = "token"\n')
    result = CliRunner().invoke(main, ["--config", str(cfg), "run"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Error: telegram.token_file token is empty: put the bot's token from @BotFather in it "
        "(run --console needs none)"
    ]


def test_console_digest_is_one_plain_message(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "{cfg.store_path}"\n\n[[rules]]\nname = "near"\nmetric = "ratio"\nnumerator = "AAA"\n'
        'denominator = "BBB"\ncondition = "crosses_above"\nthreshold = 0.5\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "run", "--console"], input="/digest\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Daily digest — ") == 1
    assert f"Daily digest — {as_of}" in result.stdout
    assert "near: " in result.stdout and "below 0.5" in result.stdout
    assert "<b>" not in result.stdout
