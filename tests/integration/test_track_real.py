"""Track record on the real offline data: the 2024-07-17 ratio crossing and what followed it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.config.defaults import DEFAULT_RULES
from bot.ingest.sources.csvdir import load_directory
from bot.market.track import stats_json, stats_lines
from bot.store.db import Store
from tests.support.factories import make_config

# The shipped rules themselves, so these tests follow any change to them.
RATIO_RULE = next(r for r in DEFAULT_RULES if r["name"] == "rut-spx-above-0.4")
RSP_RULE = next(r for r in DEFAULT_RULES if r["name"] == "rsp-spy-above-200d")


@pytest.fixture(scope="module")
def indices_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("indices") / "indices.sqlite"
    s = Store(path)
    summary = load_directory(s, shared_data / "indices")
    assert summary.symbols >= 6
    s.close()
    return path


def independent_moves(shared_data: Path, day: str, sym: str, bench: str, column: str) -> dict[int, float]:
    """Straight from the CSV files: forward % change of sym minus bench on the days both trade."""

    def load(symbol: str) -> pd.Series:
        f = pd.read_csv(shared_data / "indices" / f"{symbol}.csv", parse_dates=["date"], index_col="date")
        s = f[column] if column in f and f[column].notna().any() else f["adj_close"]
        return s.dropna()

    both = pd.concat([load(sym), load(bench)], axis=1, join="inner").sort_index()
    i = int(both.index.searchsorted(pd.Timestamp(day)))
    assert both.index[i] == pd.Timestamp(day)
    px = both.to_numpy(dtype=float)
    out = {}
    for h in (21, 63, 126):
        a = px[i + h, 0] / px[i, 0] - 1
        b = px[i + h, 1] / px[i, 1] - 1
        out[h] = float((a - b) * 100)
    return out


def test_ratio_crossing_of_2024_07_17_with_its_forward_moves(
    shared_data: Path, indices_store: Path, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path, {"store": {"path": str(indices_store)}}, rules=[RATIO_RULE])
    store = Store(indices_store)
    try:
        doc = stats_json(store, cfg, "rut-spx-above-0.4")
        [line] = stats_lines(store, cfg, [("rut-spx-above-0.4", None)])
    finally:
        store.close()
    firing = next(f for f in doc["firings"] if f["date"] == "2024-07-17")
    assert firing["value"] == pytest.approx(0.4008, abs=5e-4)
    want = independent_moves(shared_data, "2024-07-17", "^RUT", "^GSPC", "close")
    for h, v in want.items():
        assert firing["moves"][str(h)] == pytest.approx(v, abs=1e-9)
    assert not firing["open"]
    assert doc["fired"] == len(doc["firings"])
    s3 = next(s for s in doc["summaries"] if s["horizon"] == 63)
    assert s3["n"] + s3["open"] == doc["fired"]
    assert line is not None and f"after {s3['positive']} of {s3['n']} firings (" in line
    assert line.startswith(f"Fired {doc['fired']}× since 1987;")


def test_rsp_spy_rule_has_a_track_record_through_the_cli(indices_store: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "{indices_store}"\n\n[[rules]]\n'
        + "\n".join(f"{k} = {json.dumps(v)}" for k, v in RSP_RULE.items())
    )
    result = CliRunner().invoke(main, ["--config", str(config), "stats", "rsp-spy-above-200d", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["symbol"] == "RSP" and doc["benchmark"] == "SPY" and doc["unit"] == "pt"
    assert doc["fired"] > 10
    assert all(s["n"] + s["open"] == doc["fired"] for s in doc["summaries"])
    assert doc["summary"].startswith(f"Fired {doc['fired']}×")
