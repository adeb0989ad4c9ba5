"""Small things a user meets: usage lines with an example, /stats lists the rules, charts that can be drawn,
PNG only, console charts that do not pile up, "1 alert", and a chart that never stalls another chat."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import bot.answers.charts as charts
from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.cli import main
from bot.console import CHARTS_KEPT, save_photo
from bot.store import Store
from tests.support.factories import make_config, price_frame
from tests.support.tg_helpers import ADMIN, ALLOWED, load_prices, tg_config


@pytest.fixture
def service(tmp_path: Path) -> Service:
    config = tg_config(tmp_path)
    store = Store(config.store_path)
    load_prices(store)
    return Service(config, store)


async def test_mute_with_a_bad_duration_shows_an_example_and_the_limit(service: Service) -> None:
    reply = await dispatch(CommandContext(service, ALLOWED), "/mute 5x")
    assert reply.text == "Usage: /mute DURATION (e.g. /mute 4h or /mute 2d: a number and m, h, d or w, at most 90 days)"


async def test_stats_without_a_rule_lists_the_rules(service: Service) -> None:
    reply = await dispatch(CommandContext(service, ALLOWED), "/stats")
    names = ", ".join(r.name for r in service.config.rules)
    usage = "Usage: /stats RULE [DATE] (e.g. /stats rut-spx-above-0.4 or /stats rut-spx-above-0.4 2024-07-24"
    assert reply.text == f"{usage} for what was known that day) — rules: {names}"


def test_chart_choices_hold_only_what_can_be_drawn(service: Service) -> None:
    names = charts.choices(service.config)
    assert "sma" not in names and "close" not in names  # they need a symbol: only through a rule
    assert "ratio" in names and "breadth" in names
    with pytest.raises(charts.ChartError) as err:
        charts.render_chart(service.store, service.config, "sma")
    assert 'metric "sma" needs parameters (symbol, window, basis)' in str(err.value)
    assert ", sma," not in str(err.value)


def test_chart_out_must_be_a_png(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(cfg.path), "chart", "ratio", "--out", str(tmp_path / "x.jpg")])
    assert result.exit_code == 2
    assert "charts are PNG images: name the file x.png" in result.stderr
    assert not (tmp_path / "x.jpg").exists()


def test_console_charts_do_not_pile_up(tmp_path: Path) -> None:
    paths = [save_photo(b"\x89PNG" + bytes([i]), tmp_path) for i in range(CHARTS_KEPT + 5)]
    kept = sorted(tmp_path.glob("*.png"))
    assert len(kept) == CHARTS_KEPT
    assert Path(paths[-1]) in kept and Path(paths[0]) not in kept


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


async def test_a_chart_being_drawn_never_stalls_another_chat(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    drawing = threading.Event()
    release = threading.Event()
    real_draw = charts.draw

    def slow_draw(*args: Any, **kwargs: Any) -> bytes:
        drawing.set()
        release.wait(timeout=60)  # a huge /chart … max, as long as the test wants
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(charts, "draw", slow_draw)
    chart = asyncio.create_task(dispatch(CommandContext(service, ADMIN, admin=True), "/chart ratio max"))
    while not drawing.is_set():
        await asyncio.sleep(0.01)
    ratio = await asyncio.wait_for(dispatch(CommandContext(service, ALLOWED), "/ratio"), timeout=30)
    assert "^RUT / ^GSPC" in ratio.text
    assert not chart.done()  # the chart is still being drawn while the other chat got its answer
    release.set()
    reply = await chart
    assert reply.photo is not None and reply.photo.startswith(b"\x89PNG")
