"""Issue 2's acceptance on the real offline data: the July 2024 ratio crossing and late-July breadth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from tests.support.paths import REPO

README_RULES = (REPO / "config.toml").read_text().split("# Rules.")[0]


def check(config: Path, as_of: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--as-of", as_of, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def rule(doc: dict[str, Any], name: str) -> dict[str, Any]:
    rules = doc["rules"]
    assert isinstance(rules, list)
    found: dict[str, Any] = next(r for r in rules if r["name"] == name)
    return found


@pytest.fixture
def config(real_store_copy: Path, tmp_path: Path) -> Path:
    repo_config = (REPO / "config.toml").read_text()
    cfg = tmp_path / "config.toml"
    cfg.write_text(repo_config.replace('path = "data/rotation-bot.sqlite"', f'path = "{real_store_copy}"'))
    return cfg


def test_ratio_crosses_0_4_between_july_10_and_24(config: Path) -> None:
    doc = check(config, "2024-07-10")
    assert rule(doc, "rut-spx-above-0.4")["value"] == pytest.approx(0.364, abs=5e-4)
    assert doc["alerts"] == []
    doc = check(config, "2024-07-24")
    assert rule(doc, "rut-spx-above-0.4")["value"] == pytest.approx(0.405, abs=5e-4)
    alerts = doc["alerts"]
    assert isinstance(alerts, list)
    crossings = [a["date"] for a in alerts if a["rule"] == "rut-spx-above-0.4"]
    assert crossings[0] == "2024-07-17"


def test_breadth_late_july_reports_members_counted(config: Path) -> None:
    check(config, "2024-07-16")  # the bot was running before the July rally
    doc = check(config, "2024-07-26")
    breadth = rule(doc, "breadth-above-75")
    assert breadth["value"] == pytest.approx(75.2, abs=0.05)
    assert breadth["counted"] == 500
    assert breadth["excluded"] == 3
    # Three closes in a row above 75% (for_days = 3): the alert of the July rally, caught up by this check.
    assert [a["date"] for a in doc["alerts"] if a["rule"] == "breadth-above-75"] == ["2024-07-18"]


def test_june_2024_cpi_surprise_fires_below_consensus(config: Path) -> None:
    doc = check(config, "2024-07-11")
    cpi = rule(doc, "cpi-headline-yoy-below-consensus")
    assert cpi["value"] == pytest.approx(-0.1)
    assert cpi["actual"] == pytest.approx(3.0) and cpi["expected"] == pytest.approx(3.1)
    fired = [a for a in doc["alerts"] if a["rule"] == "cpi-headline-yoy-below-consensus"]
    assert [a["date"] for a in fired] == ["2024-07-11"]
