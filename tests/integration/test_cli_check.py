"""`rotation-bot fetch --source csv`, `check` and `replay` end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.cli.main import main
from bot.config.settings import parse_config
from bot.jobs.check import run_check
from bot.store import chats, outbox
from bot.store.db import Store

RULES = """
[[rules]]
name = "rut-spx-above-0.4"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.4
message = "ratio {value:.3f} above {threshold}"

[[rules]]
name = "breadth-above-75"
metric = "breadth"
universe = "sp500"
window = 5
condition = "crosses_above"
threshold = 75
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A config, and a data folder where the ratio crosses 0.4 upward on the 30th trading day."""
    data = tmp_path / "data"
    data.mkdir()
    days = pd.bdate_range("2024-01-01", periods=40)
    spx = np.full(40, 5000.0)
    rut = np.where(np.arange(40) < 29, 1900.0, 2100.0)
    for sym, values in (("^GSPC", spx), ("^RUT", rut)):
        pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": values}).to_csv(data / f"{sym}.csv", index=False)
    (tmp_path / "config.toml").write_text(f'[store]\npath = "{tmp_path / "s.sqlite"}"\n{RULES}')
    return tmp_path


def run(workdir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(workdir / "config.toml"), *args])
    return result.exit_code, result.stdout, result.stderr


def test_fetch_then_check_reports_values_and_alerts_once(workdir: Path) -> None:
    code, out, _ = run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    assert code == 0, out
    assert "2 symbols, 80 rows" in out
    code, out, err = run(workdir, "check", "--as-of", "2024-02-08", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["as_of"] == "2024-02-08"
    ratio = next(r for r in doc["rules"] if r["name"] == "rut-spx-above-0.4")
    assert ratio["value"] == pytest.approx(0.38) and ratio["state"] == "inactive"
    breadth = next(r for r in doc["rules"] if r["name"] == "breadth-above-75")
    assert breadth["state"] == "error" and "member list" in breadth["error"]
    assert "breadth-above-75" in err
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-15", "--format", "json")
    doc = json.loads(out)
    assert [(a["rule"], a["date"]) for a in doc["alerts"]] == [("rut-spx-above-0.4", "2024-02-09")]
    assert doc["alerts"][0]["message"] == "ratio 0.420 above 0.4"
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-15", "--format", "json")
    assert json.loads(out)["alerts"] == []


def test_strict_check_fails_when_a_rule_cannot_run(workdir: Path) -> None:
    run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    code, _, err = run(workdir, "check", "--strict")
    assert code == 1
    assert 'rule "breadth-above-75"' in err


def test_missing_symbol_fails_when_nothing_can_run(workdir: Path) -> None:
    run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    cfg = workdir / "config.toml"
    cfg.write_text(
        cfg.read_text().split("[[rules]]")[0]
        + '[[rules]]\nname = "foo"\nmetric = "close"\nsymbol = "FOO"\ncondition = "above"\nthreshold = 1\n'
    )
    code, out, err = run(workdir, "check")
    assert code == 1
    assert 'rule "foo"' in err and "'FOO'" in err
    assert "Traceback" not in out + err


def test_empty_store_is_a_clear_error(workdir: Path) -> None:
    code, _, err = run(workdir, "check")
    assert code == 1
    assert err.startswith("Error: the store") and "rotation-bot fetch" in err


def test_unreadable_config_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[store\npath = 1")
    result = CliRunner().invoke(main, ["--config", str(bad), "check"])
    assert result.exit_code == 1
    assert "not valid TOML" in result.stderr
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "absent.toml"), "check"])
    assert result.exit_code == 1 and "no such config file" in result.stderr


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('metric = "nope"\ncondition = "above"\nthreshold = 1', 'rule "r" field "metric": unknown metric "nope"'),
        (
            'metric = "close"\nsymbol = "A"\ncondition = "sideways"\nthreshold = 1',
            'rule "r" field "condition": expected one of',
        ),
        (
            'metric = "close"\nsymbol = "A"\ncondition = "above"\nthreshold = "0,4"',
            'field "threshold": expected a number',
        ),
    ],
)
def test_bad_rules_name_rule_and_field(tmp_path: Path, rule: str, expected: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[rules]]\nname = "r"\n{rule}\n')
    result = CliRunner().invoke(main, ["--config", str(cfg), "check"])
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("Error: config.toml: ")


def test_replay_json_lists_alerts_and_counts(workdir: Path) -> None:
    run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    code, out, _ = run(workdir, "replay", "--from", "2024-01-01", "--format", "json", "--rule", "rut-spx-above-0.4")
    assert code == 0
    doc = json.loads(out)
    assert doc["counts"] == {"rut-spx-above-0.4": 1}
    assert doc["alerts"][0]["date"] == "2024-02-09"
    code, out, _ = run(workdir, "replay", "--from", "2024-01-01", "--format", "csv")
    assert out.splitlines()[0] == "date,rule,kind,value,message"


def test_a_look_back_shows_alerts_but_records_and_sends_nothing(workdir: Path) -> None:
    run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    store = Store(workdir / "s.sqlite")
    chats.subscribe(store, 42)
    store.close()
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-07", "--format", "json")
    assert json.loads(out)["alerts"] == []
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-20", "--format", "json")
    assert [a["date"] for a in json.loads(out)["alerts"]] == ["2024-02-09"]
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-09", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert [(a["date"], a["recorded"]) for a in doc["alerts"]] == [("2024-02-09", False)]
    assert "rut-spx-above-0.4" in doc["historical"]
    store = Store(workdir / "s.sqlite")
    try:
        assert store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1
        assert outbox.counts(store) == {"pending": 1}
        assert store.load_states()["rut-spx-above-0.4"].last_day.isoformat() == "2024-02-20"  # type: ignore[union-attr]
    finally:
        store.close()


def test_a_long_catch_up_records_old_alerts_but_sends_only_recent_ones(tmp_path: Path) -> None:
    days = pd.bdate_range("2024-01-01", periods=80)
    ratio = np.full(80, 0.38)
    ratio[29:50] = 0.42  # crosses above on 2024-02-09, back below on 2024-03-11
    ratio[75:] = 0.43  # and above again on 2024-04-15
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^GSPC", pd.DataFrame({"close": np.full(80, 5000.0)}, index=days))
    store.upsert_prices("^RUT", pd.DataFrame({"close": ratio * 5000}, index=days))
    chats.subscribe(store, 7)
    config = parse_config(
        {
            "rules": [
                {
                    "name": "up",
                    "metric": "ratio",
                    "numerator": "^RUT",
                    "denominator": "^GSPC",
                    "condition": "crosses_above",
                    "threshold": 0.4,
                }
            ]
        }
    )
    run_check(store, config, as_of=days[5].date())  # the bot was set up, then went down
    report = run_check(store, config, as_of=days[-1].date(), sink=outbox.enqueue_alerts)
    assert [a.date.isoformat() for a in report.alerts] == ["2024-02-09", "2024-04-15"]
    assert [a.date.isoformat() for a in report.unsent] == ["2024-02-09"]
    assert [r.alert_key for r in outbox.pending_rows(store)] == ["up|2024-04-15|firing"]
    store.close()


def test_going_back_before_checked_days_says_so_in_one_line(workdir: Path) -> None:
    run(workdir, "fetch", "--source", "csv", "--path", str(workdir / "data"), "--no-progress")
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-20")
    assert code == 0 and "Note:" not in out
    code, out, _ = run(workdir, "check", "--as-of", "2024-02-01")
    assert code == 0
    [note] = [line for line in out.splitlines() if line.startswith("Note:")]
    assert "already checked every rule up to 2024-02-20" in note and "2024-02-01 is a look back" in note
    assert "rotation-bot replay --from 2024-02-01" in note and "fresh store" in note
