"""Charts: decoded PNGs of the right size with real content, clear errors, and the CLI command."""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from bot.answers.charts import ChartError, chart_for_alert, render_chart
from bot.cli.main import main
from bot.config.settings import Config
from bot.market.replay import run_replay
from bot.store.db import Store
from tests.support.factories import make_config, price_frame

MEMBERS = [f"M{i}" for i in range(6)]
RULES: list[dict[str, object]] = [
    {
        "name": "ratio-up",
        "metric": "ratio",
        "numerator": "^RUT",
        "denominator": "^GSPC",
        "condition": "crosses_above",
        "threshold": 0.4,
        "resolve": True,
    },
    {
        "name": "breadth-high",
        "metric": "breadth",
        "universe": "sp500",
        "window": 20,
        "condition": "crosses_above",
        "threshold": 60,
    },
    {"name": "rut-band", "metric": "close", "symbol": "^RUT", "condition": "outside", "low": 700, "high": 900},
]


def _config(tmp_path: Path) -> Config:
    return make_config(tmp_path, extra={"universes": {"sp500": {"members": MEMBERS}}}, rules=RULES)


def _fill(store: Store, n: int = 700) -> None:
    """^RUT/^GSPC oscillating around 0.4 (so the rules fire), and six random-walk members."""
    t = np.arange(n)
    gspc = 2000 + t * 0.5
    store.upsert_prices("^GSPC", price_frame(gspc, start="2022-01-03"))
    store.upsert_prices("^RUT", price_frame(gspc * (0.4 + 0.02 * np.sin(t / 25)), start="2022-01-03"))
    rng = np.random.default_rng(7)
    for i, sym in enumerate(MEMBERS):
        walk = 50 + i + np.cumsum(rng.normal(0, 1, n))
        store.upsert_prices(sym, price_frame(np.abs(walk) + 5, start="2022-01-03"))


def _decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"))


def _assert_chart(png: bytes) -> np.ndarray:
    pixels = _decode(png)
    assert pixels.shape == (720, 1080, 3)
    # Not blank: plenty of distinct colours, and the line's blue is present.
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50
    blue = (pixels[..., 2] > 120) & (pixels[..., 0] < 80)
    assert blue.sum() > 500
    return pixels


@pytest.fixture
def filled(tmp_path: Path, store: Store) -> tuple[Store, Config]:
    _fill(store)
    return store, _config(tmp_path)


@pytest.mark.parametrize("name", ["ratio", "breadth", "ratio-up", "breadth-high", "rut-band", "close"])
@pytest.mark.parametrize("period", ["1y", "5y", "max"])
def test_charts_decode_to_phone_sized_images(filled: tuple[Store, Config], name: str, period: str) -> None:
    store, config = filled
    _assert_chart(render_chart(store, config, name, period))


def test_period_1y_draws_less_history_than_max(filled: tuple[Store, Config]) -> None:
    store, config = filled
    assert render_chart(store, config, "ratio", "1y") != render_chart(store, config, "ratio", "max")


def _amber(px: np.ndarray) -> int:
    """Firings going up are amber triangles (#ffb000), a colour nothing else on the chart uses."""
    return int(((px[..., 0] > 230) & (px[..., 1] > 150) & (px[..., 1] < 200) & (px[..., 2] < 60)).sum())


def _sky(px: np.ndarray) -> int:
    """Firings going down are sky-blue triangles (#00b7ff)."""
    return int(((px[..., 0] < 40) & (px[..., 1] > 160) & (px[..., 1] < 210) & (px[..., 2] > 230)).sum())


def test_every_firing_of_the_period_is_drawn_even_before_any_check(filled: tuple[Store, Config]) -> None:
    """A chart shows what the rule would have done (the replay stats and replay use), not only recorded alerts."""
    store, config = filled
    result, _ = run_replay(store, config, dt.date(2022, 1, 3), rule_names=["ratio-up"])
    assert result.counts["ratio-up"] > 0
    before = _assert_chart(render_chart(store, config, "ratio-up", "max"))  # nothing recorded yet
    store.record_alerts(result.alerts)
    after = _assert_chart(render_chart(store, config, "ratio-up", "max"))
    assert _amber(before) > 200
    assert _amber(after) == _amber(before)  # the same firings: recording them changes nothing
    assert _sky(before) == 0  # ratio-up only fires going up


def test_firings_going_down_have_their_own_marker(filled: tuple[Store, Config], tmp_path: Path) -> None:
    store, _ = filled
    down = {**RULES[0], "name": "ratio-down", "condition": "crosses_below", "resolve": False}
    config = make_config(tmp_path, extra={"universes": {"sp500": {"members": MEMBERS}}}, rules=[RULES[0], down])
    pixels = _assert_chart(render_chart(store, config, "ratio-down", "max"))
    assert _sky(pixels) > 200 and _amber(pixels) > 200  # both rules share the ratio: both kinds drawn


def test_unknown_metric_names_the_choices(filled: tuple[Store, Config]) -> None:
    store, config = filled
    with pytest.raises(ChartError, match=r'unknown chart "nope"; choices: ratio, breadth, ratio-up'):
        render_chart(store, config, "nope")


def test_unknown_period_is_an_error(filled: tuple[Store, Config]) -> None:
    store, config = filled
    with pytest.raises(ChartError, match="unknown period"):
        render_chart(store, config, "ratio", "3w")


def test_metric_needing_parameters_without_a_rule_is_an_error(filled: tuple[Store, Config]) -> None:
    store, config = filled
    with pytest.raises(ChartError, match='metric "relative" needs parameters'):
        render_chart(store, config, "relative")


def test_empty_store_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ChartError, match="no prices yet"):
        render_chart(store, _config(tmp_path), "ratio")


def test_chart_for_alert(filled: tuple[Store, Config]) -> None:
    store, config = filled
    result, _ = run_replay(store, config, dt.date(2022, 3, 1), rule_names=["ratio-up"])
    alert = result.alerts[-1]
    png = chart_for_alert(store, config, alert)
    assert png is not None
    _assert_chart(png)
    assert chart_for_alert(store, config, {**alert.to_dict(), "rule": "gone"}) is None


def test_renders_in_parallel_threads(filled: tuple[Store, Config]) -> None:
    store, config = filled
    results: dict[str, bytes] = {}

    def render(name: str) -> None:
        local = Store(store.path)  # one SQLite connection per thread
        try:
            results[name] = render_chart(local, config, name, "max")
        finally:
            local.close()

    threads = [threading.Thread(target=render, args=(n,)) for n in ("ratio", "breadth", "rut-band")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["breadth", "ratio", "rut-band"]
    for png in results.values():
        _assert_chart(png)


def _write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\npath = "{tmp_path / "test.sqlite"}"\n'
        '[[rules]]\nname = "ratio-up"\nmetric = "ratio"\nnumerator = "^RUT"\ndenominator = "^GSPC"\n'
        'condition = "crosses_above"\nthreshold = 0.4\n'
    )
    return path


def test_cli_writes_the_png(tmp_path: Path, store: Store) -> None:
    _fill(store)
    cfg = _write_config(tmp_path)
    out = tmp_path / "ratio.png"
    result = CliRunner().invoke(main, ["--config", str(cfg), "chart", "ratio", "--period", "5y", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    _assert_chart(out.read_bytes())


def test_cli_unknown_metric_is_one_line(tmp_path: Path, store: Store) -> None:
    _fill(store)
    cfg = _write_config(tmp_path)
    out = tmp_path / "x.png"
    result = CliRunner().invoke(main, ["--config", str(cfg), "chart", "nope", "--out", str(out)])
    assert result.exit_code == 1
    assert 'Error: unknown chart "nope"; choices: ratio, breadth, ratio-up' in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
