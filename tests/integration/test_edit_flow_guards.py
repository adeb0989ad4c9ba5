"""One edit flow for the chat and the command line: each guard of the what-if holds on both sides.

Before, the chat and ``rules set`` each had their own what-if: only the command line skipped an edit that cannot
change the firings and a rule whose symbols have no stored prices, and outlived a failed replay; only the chat
skipped a store without prices and showed a what-if for /disable and /undo. Each test asks both, the same edit.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import bot.edits.flow
from bot.chat import CommandContext, Reply, dispatch
from bot.chat.service import Service
from bot.cli.main import main
from bot.config import load_config
from bot.errors import BotError
from bot.store.db import Store
from tests.support.factories import price_frame

RULES = """
[[rules]]
name = "up"
metric = "ratio"
numerator = "A"
denominator = "B"
condition = "crosses_above"
threshold = 0.4

[[rules]]
name = "gap"
metric = "ratio"
numerator = "A"
denominator = "C"
condition = "crosses_above"
threshold = 0.4

[[rules]]
name = "cpi"
metric = "cpi_surprise"
measure = "headline_yoy"
condition = "below"
threshold = -0.05
"""


def config_file(folder: Path, prices: bool = True) -> Path:
    """Rules on A/B (stored), A/C (C never fetched) and CPI; with ``prices``, A and B have 300 days."""
    store_path = folder / "s.sqlite"
    cfg = folder / "config.toml"
    cfg.write_text(f'[store]\npath = "{store_path}"\n{RULES}')
    store = Store(store_path)
    if prices:
        wave = 0.4 + 0.05 * np.sin(np.arange(300) / 10)
        store.upsert_prices("A", price_frame(wave, start="2020-01-01"))
        store.upsert_prices("B", price_frame(np.ones(300), start="2020-01-01"))
    store.close()
    return cfg


def cli(cfg: Path, *args: str) -> tuple[str, str]:
    """A dry run on the command line: (stdout, stderr)."""
    result = CliRunner().invoke(main, ["--config", str(cfg), "rules", *args, "--dry-run"])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


async def chat(cfg: Path, line: str) -> Reply:
    """The same edit from an admin chat (admins may edit), as the chat shows it."""
    config = load_config(cfg)
    store = Store(config.store_path)
    try:
        return await dispatch(CommandContext(Service(config, store, config_path=cfg), 1, admin=True), line)
    finally:
        store.close()


def has_whatif(text: str) -> bool:
    return "as is" in text and "firings" in text


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return config_file(tmp_path)


async def test_a_threshold_edit_shows_the_whatif_on_both_sides(cfg: Path) -> None:
    out, _ = cli(cfg, "set", "up", "threshold", "0.44")
    reply = await chat(cfg, "/set up threshold 0.44")
    assert has_whatif(out) and "edited threshold=0.44" in out
    assert has_whatif(reply.text) and "edited threshold=0.44" in reply.text and reply.buttons


async def test_an_edit_that_cannot_change_the_firings_has_no_whatif_on_either_side(cfg: Path) -> None:
    """The fingerprint guard (the command line's before): a message, a severity, a rename replay nothing."""
    out, _ = cli(cfg, "set", "up", "message", "up {value}")
    assert not has_whatif(out) and '+message = "up {value}"' in out
    for line in ("/set up message up {value}", "/set up severity critical", "/rename up upper"):
        reply = await chat(cfg, line)
        assert not has_whatif(reply.text) and reply.buttons, line


async def test_a_rule_on_a_symbol_without_stored_prices_has_no_whatif_on_either_side(cfg: Path) -> None:
    """The stored-symbols guard (the command line's before): the chat replayed it into an error column."""
    out, err = cli(cfg, "set", "gap", "threshold", "0.44")
    reply = await chat(cfg, "/set gap threshold 0.44")
    assert not has_whatif(out) and not err
    assert not has_whatif(reply.text) and reply.buttons and "+threshold = 0.44" in html.unescape(reply.text)


async def test_a_store_without_prices_has_no_whatif_on_either_side(tmp_path: Path) -> None:
    """The no-prices guard (the chat's before): a CPI rule names no symbol, so only this guard stops the replay."""
    cfg = config_file(tmp_path, prices=False)
    out, err = cli(cfg, "set", "cpi", "threshold", "0.15")
    reply = await chat(cfg, "/set cpi threshold 0.15")
    assert not has_whatif(out) and not err and "Dry run" in out
    assert not has_whatif(reply.text) and reply.buttons


async def test_a_failed_replay_leaves_the_preview_on_both_sides(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outliving a failed what-if (the command line's before): the chat answered the error instead of a preview."""

    def broken(*args: object, **kwargs: object) -> None:
        raise BotError("the replay broke")

    monkeypatch.setattr(bot.edits.flow, "replay_variants", broken)
    out, err = cli(cfg, "set", "up", "threshold", "0.44")
    assert "Warning: no what-if: the replay broke" in err and "Dry run" in out
    reply = await chat(cfg, "/set up threshold 0.44")
    assert "⚠️ no what-if: the replay broke" in reply.text and reply.buttons


async def test_disable_and_undo_show_the_whatif_on_both_sides(cfg: Path) -> None:
    """The chat's before: the command line showed a what-if for `rules set` only."""
    out, err = cli(cfg, "disable", "up")
    assert has_whatif(out) and "last five (edited): none  [disabled: no alerts]" in out and not err
    reply = await chat(cfg, "/disable up")
    assert "last five (edited): none  [disabled: no alerts]" in reply.text
    assert CliRunner().invoke(main, ["--config", str(cfg), "rules", "set", "up", "threshold", "0.44"]).exit_code == 0
    out, _ = cli(cfg, "undo")
    assert has_whatif(out) and "edited threshold=0.4" in out
    assert has_whatif((await chat(cfg, "/undo")).text)


async def test_the_command_line_prints_the_lines_of_the_chats_preview(cfg: Path) -> None:
    """The console shows what a chat gets: the diff and the what-if are the same lines, tags aside."""
    out, _ = cli(cfg, "set", "up", "threshold", "0.44")
    reply = html.unescape((await chat(cfg, "/set up threshold 0.44")).text.replace("<pre>", "").replace("</pre>", ""))
    shared = out.split("Dry run")[0].strip()
    assert shared in reply
