"""`rotation-bot stats RULE` on a generated store, and the track-record cache behind it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from bot.answers.evidence import stats_html
from bot.cli.main import main
from bot.config import find_rule
from bot.config.settings import load_config
from bot.market.replay import run_replay
from bot.market.track import stats_lines, track_record_for
from bot.store.db import Store
from tests.support.factories import price_frame

N = 400


def write_setup(tmp_path: Path) -> Path:
    t = np.arange(N)
    ratio = 0.4 + 0.03 * np.sin(t / 15.0)  # crosses 0.4 every ~47 days
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^GSPC", price_frame(1000 + t))
    store.upsert_prices("^RUT", price_frame(ratio * (1000 + t)))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "s.sqlite"\n\n[[rules]]\nname = "cross"\nmetric = "ratio"\nnumerator = "^RUT"\n'
        'denominator = "^GSPC"\ncondition = "crosses_above"\nthreshold = 0.4\nhorizons = [5, 21]\n'
    )
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_stats_json_lists_every_firing_with_n(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    code, out, _ = invoke(config, "stats", "cross", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    cfg = load_config(config)
    store = Store(cfg.store_path)
    replayed, _ = run_replay(store, cfg, dt.date(2000, 1, 1))
    store.close()
    assert [f["date"] for f in doc["firings"]] == [a.date.isoformat() for a in replayed.alerts]
    assert doc["fired"] == replayed.counts["cross"] > 3
    assert doc["horizons"] == [5, 21]
    for s in doc["summaries"]:
        done = [f["moves"][str(s["horizon"])] for f in doc["firings"] if f["moves"][str(s["horizon"])] is not None]
        assert s["n"] == len(done) and s["open"] == doc["fired"] - len(done)
        assert s["positive"] == sum(1 for m in done if m > 0)
    assert doc["summary"].startswith(f"Fired {doc['fired']}× since 2024;")


def test_stats_table_and_unknown_rule(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    code, out, _ = invoke(config, "stats", "cross")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("cross — ^RUT / ^GSPC crosses above 0.4")
    assert any(line.startswith("1 week: n = ") for line in lines)
    assert "date" in out and "1m" in out
    code, _, err = invoke(config, "stats", "nope")
    assert code == 1
    assert err.strip() == "Error: no rule named 'nope'; known rules: cross"


def test_cache_is_keyed_by_rule_definition_and_data_version(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    cfg = load_config(config)
    store = Store(cfg.store_path)
    try:
        first = track_record_for(store, cfg, "cross")
        rows = store.db.execute("SELECT rule, rule_hash, data_version FROM track_cache").fetchall()
        assert rows == [("cross", cfg.rules[0].fingerprint, store.data_version())]
        # a stale payload under the current key is what gets served: proof the cache is read
        store.db.execute("UPDATE track_cache SET payload = json_set(payload, '$.since', '1999-01-01')")
        assert track_record_for(store, cfg, "cross").since == dt.date(1999, 1, 1)
        # new prices: a new data version, recomputed, old row replaced
        more = price_frame(np.full(30, 2000.0), start="2025-08-01")
        store.upsert_prices("^GSPC", more)
        store.upsert_prices("^RUT", more * 0.45)
        again = track_record_for(store, cfg, "cross")
        assert again.since == first.since and again.as_of is not None and first.as_of is not None
        assert again.as_of > first.as_of
        assert store.db.execute("SELECT COUNT(*), MAX(data_version) FROM track_cache").fetchone() == (
            1,
            store.data_version(),
        )
        line, unknown = stats_lines(store, cfg, [("cross", None), ("nope", None)])
        assert line is not None and f"Fired {len(again.firings)}×" in line
        assert unknown is None
        html_text = stats_html(track_record_for(store, cfg, "cross"), find_rule(cfg, "cross"))
        assert html_text.startswith("<b>cross</b>") and "<pre>" in html_text
    finally:
        store.close()


def test_rule_without_data_is_one_clear_line(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    config.write_text(
        config.read_text() + '\n[[rules]]\nname = "ghost"\nmetric = "close"\nsymbol = "ZZZ"\n'
        'condition = "above"\nthreshold = 1\n'
    )
    code, _, err = invoke(config, "stats", "ghost")
    assert code == 1
    want = (
        'Error: no track record for rule "ghost": no prices stored for ZZZ: run `rotation-bot fetch` first '
        "(offline: `rotation-bot fetch --source csv --path DIR`, DIR a folder of SYMBOL.csv files)"
    )
    assert err.strip() == want
    code, out, _ = invoke(config, "stats", "cross", "--format", "json")  # the other rule is unaffected
    assert code == 0 and json.loads(out)["fired"] > 3
