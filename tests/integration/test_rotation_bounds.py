"""`rotation` asked for values that mean no rotation, a lead given back in full, and a day on which one index
has no close: the gap is bounded, a negative gap is never "a rotation under way", and every line is as of one day.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import main
from tests.integration.test_rotation_real import ISO, dates_in


@pytest.fixture
def config(real_config: Path) -> Path:
    return real_config


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "rotation", *args])


@pytest.mark.parametrize(
    ("option", "value", "bounds"),
    [("--min-gap", "0.0001", "2.0<=x<=100.0"), ("--max-days", "2", "5<=x<=250"), ("--max-days", "251", "5<=x<=250")],
)
def test_a_gap_or_a_span_that_means_no_rotation_is_a_wrong_option(
    config: Path, option: str, value: str, bounds: str
) -> None:
    """--min-gap 0.0001 made one "rotation under way" from 1987-09-14, at −391.7 pt."""
    result = run(config, option, value, "--as-of", "2024-07-24")
    assert result.exit_code == 2
    assert f"Error: Invalid value for '{option}': {value} is not in the range {bounds}." in result.output


def test_a_gap_that_holds_on_most_days_is_refused_in_one_line(config: Path) -> None:
    result = run(config, "--min-gap", "2", "--as-of", "2024-07-24")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == (
        "Error: a lead of 2 pt within 45 trading days held on 58% of the closes since 1987-09-10: most days would "
        "be in a rotation, so it tells nothing apart; ask for a wider gap or fewer days (--min-gap and --max-days, "
        "or [rotation] min_gap and max_days)\n"
    )


def test_the_config_takes_the_same_bounds(config: Path) -> None:
    text = config.read_text().replace("min_gap = 8", "min_gap = 0.5")
    config.write_text(text)
    result = CliRunner().invoke(main, ["--config", str(config), "rules", "check"])
    assert result.exit_code == 1 and "rotation.min_gap" in result.stderr, result.output


def test_a_lead_given_back_in_full_is_not_a_rotation_under_way(config: Path) -> None:
    result = run(config, "--as-of", "2024-12-23")
    assert result.exit_code == 0, result.output
    assert "2024-10-10 → 2024-12-23 (51 trading days): Russell 2000 +2.2%, S&P 500 +3.4%: gap −1.1 pt" in result.stdout
    assert "A rotation under way" not in result.stdout
    assert (
        "No rotation under way: the one known on 2024-11-25 (widest +8.0 pt, on 2024-11-25) has been given back in "
        "full since 2024-10-10." in result.stdout
    )
    doc = json.loads(run(config, "--as-of", "2024-12-23", "--format", "json").stdout)
    assert doc["current"] is None and doc["precedents"][-1]["given_back"] is True


def test_every_line_is_as_of_the_last_close_of_both_indices(config: Path) -> None:
    """^RUT ends on 2026-06-23 in the shared data: RSP/SPY were shown on 2026-06-26 under 'as of 2026-06-23'."""
    result = run(config, "--as-of", "2026-06-26")
    assert result.exit_code == 0, result.output
    head = result.stdout.splitlines()[0]
    assert head == (
        "Can the small-cap rotation continue? As of the close of 2026-06-23 "
        "(the last close of both indices by 2026-06-26: every line is as of it)."
    )
    assert "RSP/SPY" in result.stdout and max(ISO.findall("\n".join(result.stdout.splitlines()[1:]))) <= "2026-06-23"
    doc = json.loads(run(config, "--as-of", "2026-06-26", "--format", "json").stdout)
    assert doc["as_of"] == "2026-06-23" and doc["asked"] == "2026-06-26"
    assert doc["signals"]["equal_weight"]["date"] == "2026-06-23"
    assert max(dates_in({k: v for k, v in doc.items() if k != "asked"})) <= "2026-06-23"
