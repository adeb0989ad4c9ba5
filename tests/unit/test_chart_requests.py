"""Charts as users ask for them: only what can be drawn, PNG only, console charts that do not pile up, and a
chart that never stalls another chat."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import bot.answers.charts as charts
from bot.chat import CommandContext, dispatch
from bot.chat.service import Service
from bot.cli import main
from bot.console import CHARTS_KEPT, save_photo
from tests.support.factories import make_config
from tests.support.tg_helpers import ADMIN, ALLOWED


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
