"""Errors name the true cause: unknown universes, conditions a metric cannot judge, empty ranges, a CPI-only store,
a malformed token."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.store import Store
from tests.support.factories import price_frame


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n' + body)
    return path


def test_rules_check_catches_an_unknown_universe_with_a_suggestion(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[[rules]]\nname = "b"\nmetric = "breadth"\nuniverse = "sp5000"\ncondition = "above"\nthreshold = 75\n',
    )
    code, out, err = run(config, "rules", "check")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        'Error: config.toml: rule "b" field "universe": unknown universe "sp5000"; did you mean "sp500"? '
        "known: sp500 (a [universes.sp5000] section defines one)"
    ]


def test_a_declared_universe_is_known(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[universes.tech]\nmembers = ["AAPL", "MSFT"]\n\n'
        '[[rules]]\nname = "b"\nmetric = "breadth"\nuniverse = "tech"\ncondition = "above"\nthreshold = 75\n',
    )
    assert run(config, "rules", "check")[0] == 0


@pytest.mark.parametrize("condition", ["crosses_below", "crosses_above", "crosses"])
def test_rules_check_refuses_a_crossing_on_cpi_releases(tmp_path: Path, condition: str) -> None:
    config = write(
        tmp_path,
        f'[[rules]]\nname = "cpi"\nmetric = "cpi_surprise"\ncondition = "{condition}"\nthreshold = 0\n',
    )
    code, _, err = run(config, "rules", "check")
    assert code == 1
    assert 'config.toml: rule "cpi" field "condition": metric "cpi_surprise" judges each release on its own' in err
    assert "use above or below" in err


def test_replay_of_a_range_before_all_data_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("AAA", price_frame(np.arange(1.0, 30.0)))
    store.close()
    config = write(
        tmp_path, '[[rules]]\nname = "a"\nmetric = "close"\nsymbol = "AAA"\ncondition = "above"\nthreshold = 1\n'
    )
    code, _, err = run(config, "replay", "--from", "1900-01-01", "--to", "1900-12-31", "--format", "json")
    assert code == 1
    assert err.strip().splitlines() == [
        "Error: no prices on or before 1900-12-31: the rules' data starts on 2024-01-01"
    ]


def test_a_store_with_cpi_data_only_runs_cpi_rules(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.set_cpi_releases([("2024-06", "2024-07-11", "08:30")])
    store.upsert_consensus([{"month": "2024-06", "measure": "headline_yoy", "expected": 3.1, "actual": 3.0}], "file")
    store.close()
    config = write(
        tmp_path,
        '[[rules]]\nname = "cpi"\nmetric = "cpi_surprise"\nmeasure = "headline_yoy"\ncondition = "below"\n'
        "threshold = -0.05\n",
    )
    code, out, err = run(config, "check", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["as_of"] == "2024-07-11"
    assert [(a["rule"], a["date"], a["value"]) for a in doc["alerts"]] == [("cpi", "2024-07-11", -0.1)]


def test_a_token_with_a_trailing_newline_is_used_and_a_malformed_one_named(tmp_path: Path) -> None:
    config = write(tmp_path, "")
    cfg = load_config(config)
    env = "TELEGRAM_BOT_TOKEN"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(env, "123456:AAH-secret_part\n")
        assert cfg.token() == "123456:AAH-secret_part"
    code, out, err = run(config, "run", env={env: "123456:AAH secret"})
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "Error: the Telegram token in the environment variable TELEGRAM_BOT_TOKEN is malformed (it holds ' '): "
        "a token is the bot's id, a colon and its secret, like 123456789:AAH…, as @BotFather gave it"
    ]
    assert "secret" not in err.replace("its secret", "")
