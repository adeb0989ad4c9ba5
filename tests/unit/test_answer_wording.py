"""The words a user meets: usage lines with an example, /stats listing the rules, and "1 alert"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.cli import main
from bot.store import Store
from tests.support.factories import price_frame
from tests.support.tg_helpers import ALLOWED


async def test_mute_with_a_bad_duration_shows_an_example_and_the_limit(service: Service) -> None:
    reply = await dispatch(CommandContext(service, ALLOWED), "/mute 5x")
    assert reply.text == "Usage: /mute DURATION (e.g. /mute 4h or /mute 2d: a number and m, h, d or w, at most 90 days)"


async def test_stats_without_a_rule_lists_the_rules(service: Service) -> None:
    reply = await dispatch(CommandContext(service, ALLOWED), "/stats")
    names = ", ".join(r.name for r in service.config.rules)
    usage = "Usage: /stats RULE [DATE] (e.g. /stats rut-spx-above-0.4 or /stats rut-spx-above-0.4 2024-07-24"
    assert reply.text == f"{usage} for what was known that day) — rules: {names}"


def test_replay_says_1_alert(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "s.sqlite"}"\n\n[[rules]]\nname = "once"\nmetric = "close"\n'
        'symbol = "AAA"\ncondition = "crosses_above"\nthreshold = 10\n'
    )
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("AAA", price_frame(np.arange(1.0, 30.0)))
    store.close()
    result = CliRunner().invoke(main, ["--config", str(config), "replay", "--from", "2024-01-01"])
    assert result.exit_code == 0, result.output
    assert "once    1 alert\n" in result.stdout
