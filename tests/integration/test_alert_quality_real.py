"""Alerts worth reading, on the real offline data: the shipped rules are quiet, still catch the July 2024
events, `whatif` equals a replay of the edited config, and `stats` counts what `replay` counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.support.paths import REPO

YEARLY_CAP = 4


def shipped_config(tmp_path: Path, store: Path) -> Path:
    """The shipped config.toml's rules, comments and all, on ``store``."""
    rules = (REPO / "config.toml").read_text().split("\n[[rules]]\n", 1)[1]
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{store}"\n\n[[rules]]\n{rules}')
    return path


def cli(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--config", str(config), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def replayed(real_store_copy: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    config = shipped_config(tmp_path, real_store_copy)
    return config, cli(config, "replay", "--from", "1900-01-01")


def test_shipped_rules_are_quiet_and_still_catch_july_2024(replayed: tuple[Path, dict[str, Any]]) -> None:
    _, doc = replayed
    firings = [a for a in doc["alerts"] if a["kind"] == "firing"]
    per_year: dict[str, Counter[str]] = {}
    for a in firings:
        per_year.setdefault(a["rule"], Counter())[a["date"][:4]] += 1
    for rule, years in per_year.items():
        if rule.startswith("cpi-"):
            continue  # judged release by release: exempt from the cap
        year, most = years.most_common(1)[0]
        assert most <= YEARLY_CAP, f"{rule} fired {most} times in {year}"
    dates = {(a["rule"], a["date"]) for a in firings}
    assert any(r == "rut-spx-above-0.4" and "2024-07-15" <= d <= "2024-07-19" for r, d in dates)
    assert any(r == "breadth-above-75" and d.startswith("2024-07") for r, d in dates)
    assert ("cpi-headline-yoy-below-consensus", "2024-07-11") in dates


def test_whatif_with_an_edit_equals_a_replay_of_the_edited_config(real_store_copy: Path, tmp_path: Path) -> None:
    config = shipped_config(tmp_path, real_store_copy)
    what = cli(config, "whatif", "rut-spx-above-0.4", "threshold=0.42", "hysteresis=0.005", "--from", "2000-01-01")
    as_is, edited = what["variants"]
    edited_dir = tmp_path / "edited"
    edited_dir.mkdir()
    edited_config = shipped_config(edited_dir, real_store_copy)
    text = edited_config.read_text()  # the first rule is rut-spx-above-0.4: edit it as a user would
    text = text.replace("threshold = 0.4\n", "threshold = 0.42\n", 1).replace(
        "hysteresis = 0.01 ", "hysteresis = 0.005 ", 1
    )
    edited_config.write_text(text)
    for cfg, variant in ((config, as_is), (edited_config, edited)):
        doc = cli(cfg, "replay", "--from", "2000-01-01", "--rule", "rut-spx-above-0.4")
        dates = [a["date"] for a in doc["alerts"] if a["kind"] == "firing"]
        assert variant["firings"] == len(dates) == doc["counts"]["rut-spx-above-0.4"]
        assert variant["last_five"] == dates[-5:]
        years = Counter(d[:4] for d in dates)
        assert variant["most_in_one_year"]["firings"] == (max(years.values()) if years else 0)
    assert as_is["firings"] != edited["firings"]  # the edit changes something worth seeing


def test_stats_counts_every_firing_replay_counts(replayed: tuple[Path, dict[str, Any]]) -> None:
    config, _ = replayed
    for name in (
        "rut-spx-above-0.4",
        "rut-spx-below-0.4",
        "breadth-above-75",
        "rut-beats-spx-10d",
        "cpi-headline-yoy-below-consensus",
        "rsp-spy-above-200d",
    ):
        stats = cli(config, "stats", name)
        replay = cli(config, "replay", "--from", stats["since"], "--rule", name)
        assert stats["fired"] == replay["counts"][name], name
        assert [f["date"] for f in stats["firings"]] == [
            a["date"] for a in replay["alerts"] if a["kind"] == "firing"
        ], name
