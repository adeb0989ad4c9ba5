"""`rotation-bot rules set|enable|disable|rename|history|undo` through the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.store.db import Store
from tests.support.factories import price_frame
from tests.support.paths import REPO


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    shutil.copy(REPO / "config.toml", path)
    return path


def invoke(cfg: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(cfg), *args])
    return result.exit_code, result.output


def test_dry_run_shows_the_diff_and_writes_nothing(cfg: Path) -> None:
    before = cfg.read_bytes()
    code, out = invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.42", "--dry-run")
    assert code == 0, out
    assert "-threshold = 0.4\n" in out and "+threshold = 0.42\n" in out
    assert "nothing written" in out
    assert cfg.read_bytes() == before
    code, out = invoke(cfg, "rules", "disable", "breadth-above-75", "--dry-run")
    assert code == 0 and "+enabled = false" in out
    assert cfg.read_bytes() == before
    assert not (cfg.parent / "data").exists()  # nor a store created


def test_set_enable_disable_history_and_undo(cfg: Path) -> None:
    original = cfg.read_bytes()
    code, out = invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.42")
    assert code == 0, out
    assert 'rule "rut-spx-above-0.4": threshold 0.4 → 0.42' in out
    assert "threshold = 0.42\n" in cfg.read_text()
    code, out = invoke(cfg, "rules", "disable", "breadth-above-75")
    assert code == 0 and 'rule "breadth-above-75" disabled' in out, out
    code, out = invoke(cfg, "rules", "enable", "breadth-above-75")
    assert code == 0 and 'rule "breadth-above-75" enabled' in out, out
    code, out = invoke(cfg, "rules", "history")
    assert code == 0, out
    assert out.count("command line") == 3
    assert out.index("enabled") < out.index("threshold 0.4 → 0.42")  # newest first
    assert "+threshold = 0.42" in out
    code, out = invoke(cfg, "rules", "history", "rut-spx-above-0.4")
    assert code == 0 and out.count("command line") == 1, out
    code, out = invoke(cfg, "rules", "undo", "--dry-run")
    assert code == 0 and "nothing written" in out, out
    for _ in range(3):
        code, out = invoke(cfg, "rules", "undo")
        assert code == 0, out
        assert "Undid edit #" in out
    assert cfg.read_bytes() == original
    code, out = invoke(cfg, "rules", "undo")
    assert code == 1 and "Error: no edit to undo" in out


def test_undo_refuses_after_a_hand_edit(cfg: Path) -> None:
    assert invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.42")[0] == 0
    cfg.write_text(cfg.read_text() + "# a line added by hand\n")
    edited = cfg.read_bytes()
    code, out = invoke(cfg, "rules", "undo")
    assert code == 1 and "changed since edit #1" in out, out
    assert cfg.read_bytes() == edited


def test_an_invalid_edit_is_the_located_error_and_leaves_the_file(cfg: Path) -> None:
    before = cfg.read_bytes()
    code, out = invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "abc")
    assert code == 1
    assert 'Error: config.toml: rule "rut-spx-above-0.4" field "threshold": expected a number, got "abc"' in out
    code, out = invoke(cfg, "rules", "enable", "nope")
    assert code == 1 and "known rules: rut-spx-above-0.4" in out
    assert cfg.read_bytes() == before


def test_set_prints_the_whatif_when_the_store_has_data(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n[[rules]]\nname = "up"\nmetric = "ratio"\n'
        'numerator = "A"\ndenominator = "B"\ncondition = "crosses_above"\nthreshold = 0.4\n'
    )
    store = Store(tmp_path / "s.sqlite")
    wave = 0.4 + 0.05 * np.sin(np.arange(300) / 10)
    store.upsert_prices("A", price_frame(wave, start="2020-01-01"))
    store.upsert_prices("B", price_frame(np.ones(300), start="2020-01-01"))
    store.close()
    code, out = invoke(cfg, "rules", "set", "up", "threshold", "0.44", "--dry-run")
    assert code == 0, out
    assert "as is" in out and "threshold=0.44" in out and "firings" in out


def test_set_takes_several_pairs_as_one_edit(cfg: Path) -> None:
    original = cfg.read_bytes()
    code, out = invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.41", "hysteresis", "0.005")
    assert code == 0, out
    assert 'rule "rut-spx-above-0.4": threshold 0.4 → 0.41, hysteresis 0.01 → 0.005' in out
    assert "threshold = 0.41\n" in cfg.read_text() and "hysteresis = 0.005 " in cfg.read_text()
    code, out = invoke(cfg, "rules", "history")
    assert code == 0 and out.count("command line") == 1, out
    assert invoke(cfg, "rules", "undo")[0] == 0
    assert cfg.read_bytes() == original
    code, out = invoke(cfg, "rules", "set", "rut-spx-above-0.4", "threshold", "0.41", "hysteresis")
    assert code == 2 and "KEY VALUE pairs" in out, out


def test_rename_keeps_the_state_as_the_chat_does_and_a_stale_name_is_pointed_out(tmp_path: Path) -> None:
    """The command line had no rename: a name left holding the old threshold could only be renamed by hand, which
    carries nothing over (the chat's warning named /rename, and the command line showed none)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n[[rules]]\nname = "up-0.4"\nmetric = "ratio"\n'
        'numerator = "A"\ndenominator = "B"\ncondition = "crosses_above"\nthreshold = 0.4\n'
    )
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("A", price_frame(0.4 + 0.05 * np.sin(np.arange(300) / 10), start="2020-01-01"))
    store.upsert_prices("B", price_frame(np.ones(300), start="2020-01-01"))
    store.close()
    assert invoke(cfg, "check")[0] == 0
    result = CliRunner().invoke(
        main, ["--config", str(cfg), "rules", "set", "up-0.4", "threshold", "0.44", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Warning: still says 0.4: the name (rename it: rotation-bot rules rename up-0.4 up-0.44)" in result.stderr
    store = Store(tmp_path / "s.sqlite")
    before = store.load_states()["up-0.4"]
    store.close()
    code, out = invoke(cfg, "rules", "rename", "up-0.4", "up-0.44")
    assert code == 0 and 'rule "up-0.4" renamed to "up-0.44"' in out, out
    assert 'name = "up-0.44"' in cfg.read_text()
    store = Store(tmp_path / "s.sqlite")
    states = store.load_states()
    store.close()
    assert "up-0.4" not in states and states["up-0.44"] == before
    code, out = invoke(cfg, "rules", "undo")
    assert code == 0 and 'name = "up-0.4"' in cfg.read_text(), out
    code, out = invoke(cfg, "rules", "rename", "up-0.4", "x" * 5000)
    assert code == 1 and out.startswith("Error: config.toml: rule ") and "Traceback" not in out, out
