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
    # Without a token and without --console: a clear line, then console mode.
    result = runner.invoke(main, ["--config", str(cfg), "run"], input="/subscribe\n")
    assert result.exit_code == 0, result.output
    assert "No Telegram token set" in result.stderr and "Subscribed" in result.stdout


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
