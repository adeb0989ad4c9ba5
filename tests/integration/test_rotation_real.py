"""`rotation` on the real offline data: the column's moment of July 2024 reproduced, nothing after its day used,
the late-2023 rebound among the precedents, every outcome beside its base rate; from the CLI, in JSON, in the
console and through the real PTB Application against the fake Bot API."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.chat.service import Service
from bot.cli.main import main
from bot.config import load_config
from bot.ingest.sources.csvdir import load_directory
from bot.store.db import Store
from tests.support.fake_telegram import FakeTelegram
from tests.support.paths import REPO
from tests.support.tg_helpers import ALLOWED, build, running

ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@pytest.fixture
def config(real_config: Path) -> Path:
    return real_config


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def dates_in(obj: Any) -> set[str]:
    return set(ISO.findall(json.dumps(obj)))


def test_the_columns_moment_from_the_shared_data(config: Path) -> None:
    doc = json.loads(run(config, "rotation", "--as-of", "2024-07-24", "--since", "2024-07-09", "--format", "json"))
    move = doc["move"]
    assert (move["start"], move["end"]) == ("2024-07-09", "2024-07-24")
    assert move["rut_pct"] == pytest.approx(8.2, abs=0.05)
    assert move["spx_pct"] == pytest.approx(-2.7, abs=0.05)
    assert move["gap"] == pytest.approx(10.9, abs=0.05)
    assert [w["days"] for w in doc["windows"]] == [5, 10, 21]
    # Nothing from after the as-of day anywhere in the answer.
    assert max(dates_in(doc)) <= "2024-07-24"
    # The rotation under way started on 07-09, so that is also the default --since.
    assert doc["current"]["start"] == "2024-07-09" and doc["current"]["detected"] == "2024-07-16"
    default = json.loads(run(config, "rotation", "--as-of", "2024-07-24", "--format", "json"))
    assert default["move"] == move


def test_the_late_2023_rebound_is_a_precedent_and_its_gap_closed(config: Path) -> None:
    doc = json.loads(run(config, "rotation", "--as-of", "2024-07-24", "--format", "json"))
    late_2023 = [p for p in doc["precedents"] if "2023-10-25" <= p["start"] <= "2023-11-15"]
    assert len(late_2023) == 1
    p = late_2023[0]
    assert "2023-12-15" <= p["end"] <= "2024-01-05"  # its peak: around Christmas
    assert p["rut_pct"] > 15 and p["spx_pct"] > 5 and p["gap"] >= 8
    # By the end of January 2024 the gap had almost closed: the month after it became known gave it back.
    assert p["after"]["21"]["move"] < 0 and p["after"]["63"]["outcome"] == "given back"
    # Every outcome comes with the base rate of the same horizon and a verdict.
    for s in doc["followed"]:
        assert {"base_rate", "base_median", "p_value", "verdict", "power", "min_detectable"} <= set(s)
        assert 0.4 < s["base_rate"] < 0.6
    assert "too few rotations to tell" in doc["answer"] or "no clear difference" in doc["answer"]


def test_the_table_reads_the_move_signals_precedents_and_answer(config: Path, tmp_path: Path) -> None:
    png = tmp_path / "rotation.png"
    text = run(config, "rotation", "--as-of", "2024-07-24", "--chart", str(png))
    assert "2024-07-09 → 2024-07-24 (11 trading days): Russell 2000 +8.2%, S&P 500 −2.7%: gap +10.9 pt" in text
    assert "Russell 2000 / S&P 500: 0.4045 on 2024-07-24" in text and "post-2020 peak 0.59" in text
    assert "Breadth (sp500" in text and "RSP/SPY" in text
    assert "CPI 2024-06 (released 2024-07-11): below consensus on 4 of 4" in text
    assert "on any day:" in text and ("too few rotations to tell" in text or "no clear difference" in text)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert max(ISO.findall(text)) <= "2024-07-24"


def test_as_of_a_year_earlier_knows_nothing_of_2024(config: Path) -> None:
    doc = json.loads(run(config, "rotation", "--as-of", "2023-07-24", "--format", "json"))
    assert doc["as_of"] == "2023-07-24" and max(dates_in(doc)) <= "2023-07-24"
    assert all(p["detected"] < "2023-07-24" for p in doc["precedents"])


def test_a_since_with_no_close_before_it_is_one_line(config: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), "rotation", "--since", "1900-01-01"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --since 1900-01-01") and "Traceback" not in result.output


def test_rotation_in_the_console_is_what_a_chat_gets(config: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), "run", "--console"], input="/rotation 2024-07-24\n")
    assert result.exit_code == 0, result.output
    assert "[chart saved to " in result.output
    assert "Russell 2000 +8.2%, S&P 500 −2.7%" in result.output
    assert "What followed, against any day" in result.output


async def test_rotation_in_telegram_is_a_chart_then_the_answer(
    tg: FakeTelegram, real_store_copy: Path, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text()
    text = text.replace('path = "data/rotation-bot.sqlite"', f'path = "{real_store_copy}"', 1)
    text = text.replace('api_base_url = "https://api.telegram.org/bot"', f'api_base_url = "{tg.base_url}"', 1)
    text = text.replace("allowed_chats = []", f"allowed_chats = [{ALLOWED}]", 1)
    cfg.write_text(text)
    config = load_config(cfg)
    store = Store(config.store_path)
    try:
        app = build(Service(config, store, config_path=cfg), request_timeout=10)
        async with running(app):
            tg.push_text(ALLOWED, "/rotation 2024-07-24")
            await tg.wait_until(lambda: len(tg.sent(ALLOWED)) >= 2, timeout=60)
    finally:
        store.close()
    photo, answer = tg.sent(ALLOWED)[:2]
    assert photo.method == "sendPhoto" and "Can the small-cap rotation continue?" in photo.text
    assert answer.method == "sendMessage" and answer.params["parse_mode"] == "HTML"
    assert "Russell 2000 +8.2%, S&amp;P 500 −2.7%" in answer.text and "<pre>" in answer.text
    assert "on any day:" in answer.text and len(answer.text) <= 4096
    assert max(ISO.findall(answer.text)) <= "2024-07-24"


def test_a_day_before_the_data_is_one_line(config: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), "rotation", "--as-of", "1900-01-01"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == (
        "Error: ^RUT and ^GSPC have no closes by 1900-01-01: nothing to say (try a later --as-of)"
    )
    args = ["--config", str(config), "stats", "breadth-above-75", "--as-of", "2005-01-01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        'Error: rule "breadth-above-75" has no data by 2005-01-01: nothing of it is known yet (try a later --as-of)'
    )


def test_signals_without_their_data_are_named_not_fatal(tmp_path: Path, shared_data: Path) -> None:
    store_path = tmp_path / "indices.sqlite"
    store = Store(store_path)
    load_directory(store, shared_data / "indices")
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{store_path}"\n')
    doc = json.loads(run(cfg, "rotation", "--as-of", "2024-07-24", "--format", "json"))
    assert doc["move"]["rut_pct"] == pytest.approx(8.2, abs=0.05)
    assert doc["signals"]["breadth"] is None and "breadth" in doc["missing"]
    assert doc["signals"]["cpi"] is None and "cpi" in doc["missing"]
    assert doc["signals"]["equal_weight"] is not None
