"""How often each rule fires is in view: `rules list` and /rules, from the cached track records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.cli import main
from bot.config import load_config
from bot.store import Store
from tests.support.factories import price_frame
from tests.support.paths import REPO

RULE = '[[rules]]\nname = "a-up"\nmetric = "close"\nsymbol = "AAA"\ncondition = "crosses_above"\nthreshold = 10\n'


def config_with_history(tmp_path: Path) -> Path:
    """AAA crosses 10 upwards three times in 2024 (a saw-tooth between 5 and 15)."""
    store = Store(tmp_path / "s.sqlite")
    saw = np.tile(np.concatenate([np.linspace(5, 15, 40), np.linspace(15, 5, 40)]), 3)
    store.upsert_prices("AAA", price_frame(saw, start="2024-01-01"))
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n{RULE}')
    return path


def test_rules_list_shows_how_often_each_rule_fired_then_reads_it_from_the_cache(tmp_path: Path) -> None:
    config = config_with_history(tmp_path)
    first = CliRunner().invoke(main, ["--config", str(config), "rules", "list"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == (
        "a-up fires 3.0 a year (3 since 2024; most 3, in 2024); "
        "rise after 3 months: 0 of 2 firings (0%); on any day: 50% — too few firings to tell "
        "(p = 0.38 adjusted for 3 tests (0.25 alone); no edge of any size could have shown)"
    )
    # Cached now: the second listing is the same and loads no pandas (it never opens the store).
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "--config", str(config), "rules", "list"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == first.stdout
    assert "| pandas\n" not in out.stderr and not any(line.endswith("| pandas") for line in out.stderr.splitlines())


async def test_slash_rules_shows_how_often_each_rule_fired(tmp_path: Path) -> None:
    config = load_config(config_with_history(tmp_path))
    service = Service(config, Store(config.store_path))
    reply = await dispatch(CommandContext(service, 0, admin=True), "/rules")
    assert "fires 3.0 a year (3 since 2024; most 3, in 2024)" in reply.text


def test_a_sweep_says_how_many_values_it_tried_and_adjusts_for_them(tmp_path: Path) -> None:
    config = config_with_history(tmp_path)
    args = [
        "--config",
        str(config),
        "whatif",
        "a-up",
        "--sweep",
        "threshold=9:11:1",
        "--chart",
        str(tmp_path / "s.png"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "a-up: sweep of threshold (3 values tried)"
    assert "3 values tried: each p is adjusted for all of them (Benjamini–Hochberg)" in result.stdout
    assert all("too few (p = " in line for line in lines[2:5])  # two firings a value: nothing could show
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
