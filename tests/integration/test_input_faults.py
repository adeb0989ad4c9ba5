"""Bad input through the real entry points: the CLI, chat commands, the scheduler and the start-up.

Each is one clear line naming the file, rule or field and the true cause, a non-zero exit where a command
ends, nothing lost, never a traceback; and one rule's fault stops only that rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.chat import CommandContext, Service, dispatch
from bot.cli.main import main
from bot.config import load_config
from bot.config.reload import ConfigHolder
from bot.jobs.scheduler import BotScheduler
from bot.store.db import Store
from rules import Rule
from tests.integration.test_csv_bad_rows import DAYS, GOOD, Work, assert_everything_runs, refused, with_row
from tests.support.fake_telegram import FakeTelegram
from tests.support.faultkit import DAY, seed_ratio_store
from tests.support.scheduler_helpers import Clock, Fetch, et, mark_done, seed_prices, write_config
from tests.support.tg_helpers import ADMIN, TOKEN, shipped_config_file

RATIO = """
[[rules]]
name = "ratio"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.40
"""
BREADTH = """
[[rules]]
name = "b"
metric = "breadth"
universe = "sp5000"
condition = "above"
threshold = 75
"""
WHY = 'unknown universe "sp5000"; did you mean "sp500"? known: sp500 (a [universes.sp5000] section defines one)'
UNIVERSE_LINE = f'config.toml: rule "b" field "universe": {WHY}'
RUNS_WITHOUT = f"{UNIVERSE_LINE}; the other rules run without it"


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store.sqlite"\n' + text)
    return path


def cli(path: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(path), *args], input=input)


def one_error(result: Result, line: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.stderr == f"Error: {line}\n"


# --- 8: a template's width ------------------------------------------------------------------------


def test_rules_check_and_rules_set_refuse_a_huge_width(tmp_path: Path) -> None:
    path = config(tmp_path, RATIO)
    why = "{value}: width 1000000001 is more than 200, the most a message may pad to or show"
    result = cli(path, "rules", "set", "ratio", "message", '"{value:>1000000001}"')
    one_error(result, f'config.toml: rule "ratio" field "message": {why}')
    assert "1000000001" not in path.read_text()
    one_error(
        cli(config(tmp_path, RATIO + 'message = "{value:>1000000001}"\n'), "rules", "check"),
        f'config.toml: rule "ratio" field "message": {why}',
    )


def test_a_template_that_fails_alone_still_alerts_and_the_admins_hear_why(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path, extra=RATIO.replace('"ratio"', '"r2"', 1).replace("^RUT", "AAA").replace("^GSPC", "BBB"))
    holder = ConfigHolder.load(path)
    r1, r2 = holder.config.rules
    broken = Rule(r1.spec.model_copy(update={"message": "{value:d}"}), r1.params)  # a float meets "d"
    holder.config.rules = [broken, r2]
    store = Store(holder.config.store_path)
    seed_prices(store)
    mark_done(store, "daily", et(2024, 7, 25, 17, 30))
    sched = BotScheduler(holder, now=Clock(et(2024, 7, 26, 17, 31)), fetch_prices=Fetch(), fetch_cpi=Fetch())
    [line] = sched.tick()
    assert "2 new alerts" in line, line
    alerts = {a["rule"]: a for a in store.recent_alerts()}
    assert set(alerts) == {"r1", "r2"}
    assert alerts["r1"]["message"].startswith("r1: AAA / BBB = 0.41")
    [message] = sched.messages
    assert message.startswith('Rule "r1": message template failed (ValueError: Unknown format code')
    store.close()


# --- 9: the exchange ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("rules", "check"), ("status",), ("check",)])
def test_an_unknown_exchange_is_one_line_everywhere(tmp_path: Path, command: tuple[str, ...]) -> None:
    path = config(tmp_path, '[schedule]\nexchange = "XNYSS"\n')
    one_error(
        cli(path, *command),
        'config.toml: field "schedule.exchange": unknown exchange "XNYSS"; did you mean "XNYS"? '
        "(exchange-calendars' names, e.g. XNYS, XNAS, XLON)",
    )


# --- 11: one rule the data cannot answer ----------------------------------------------------------


@pytest.fixture
def unanswerable(tmp_path: Path) -> Iterator[Path]:
    path = config(tmp_path, RATIO + BREADTH)
    store = Store(tmp_path / "store.sqlite")
    seed_ratio_store(store)
    store.close()
    yield path


def test_rules_check_still_names_the_rule(unanswerable: Path) -> None:
    one_error(cli(unanswerable, "rules", "check"), UNIVERSE_LINE)


def test_check_runs_the_other_rules_and_reports_the_one(unanswerable: Path) -> None:
    result = cli(unanswerable, "check", "--as-of", DAY.isoformat(), "--format", "json")
    assert result.exit_code == 0 and result.exception is None, result.output
    report = json.loads(result.stdout)
    assert [a["rule"] for a in report["alerts"]] == ["ratio"]
    assert report["errors"] == {"b": f'config.toml: field "universe": {WHY}'}
    assert result.stderr == f'Warning: rule "b": config.toml: field "universe": {WHY}\n'
    strict = cli(unanswerable, "check", "--as-of", DAY.isoformat(), "--strict")
    assert strict.exit_code == 1 and isinstance(strict.exception, SystemExit)


def test_status_and_the_running_bot_report_it(unanswerable: Path) -> None:
    status = cli(unanswerable, "status")
    assert f"Warning: {RUNS_WITHOUT}" in status.stderr.splitlines()
    assert status.exit_code == 1 and isinstance(status.exception, SystemExit)
    run = cli(unanswerable, "run", "--console", input="/status\n")
    assert run.exit_code == 0 and run.exception is None, run.output
    assert "unknown universe" in run.stdout and "the other rules run without it" in run.stdout
    holder = ConfigHolder.load(unanswerable)
    sched = BotScheduler(holder, now=Clock(et(2024, 7, 26, 17, 31)), fetch_prices=Fetch(), fetch_cpi=Fetch())
    assert sched.messages == [RUNS_WITHOUT]
    unanswerable.write_text(unanswerable.read_text() + "\n")
    assert (holder.poll() or "").endswith(f"rules unchanged\n{RUNS_WITHOUT}")


def test_an_edit_that_makes_a_rule_unanswerable_is_still_refused(tmp_path: Path) -> None:
    """The running bot would skip the rule; an edit is where the mistake enters, so it is refused there."""
    path = config(tmp_path, RATIO + BREADTH.replace('"sp5000"', '"sp500"'))
    one_error(cli(path, "rules", "set", "b", "universe", "sp5000"), UNIVERSE_LINE)
    assert 'universe = "sp500"' in path.read_text()


# --- 12: an empty price cell ----------------------------------------------------------------------


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Work]:
    w = Work(tmp_path)
    assert w.fetch().exit_code == 0
    yield w


def test_an_empty_close_is_a_refused_row(work: Work) -> None:
    work.write("indices/^RUT.csv", with_row("indices/^RUT.csv", 4, f"{DAYS[2]},1,1,1,,2051.75,1"))
    refused(work.fetch(), "indices/^RUT.csv:4: close: empty")
    assert work.query("SELECT close, adj_close FROM prices WHERE symbol = '^RUT' AND date = ?", DAYS[2]) == [
        (2002.0, 2002.0)
    ]
    assert_everything_runs(work)


def test_a_close_column_empty_in_the_whole_file_is_absent_and_a_close_stands_in_for_adj_close(work: Work) -> None:
    assert GOOD["indices/RSP.csv"][1].startswith(f"{DAYS[0]},,,,,")  # ETF files: no close at all
    lines = list(GOOD["indices/^RUT.csv"])
    lines[-3:] = [",".join([*line.split(",")[:5], "", "100"]) for line in lines[-3:]]  # adj_close stops coming
    work.write("indices/^RUT.csv", lines)
    result = work.fetch()
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert work.close("^RUT", DAYS[-1]) == 2000 + len(DAYS) - 1


# --- 13: digits, names and symbols from chat --------------------------------------------------------


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[CommandContext]:
    path = shipped_config_file(tmp_path, "http://127.0.0.1:9/bot")
    store = Store(tmp_path / "s.sqlite")
    yield CommandContext(Service(load_config(path), store, config_path=path), ADMIN, admin=True)
    store.close()


@pytest.mark.parametrize("text", ["/mute ٣d", "/mute 𝟗𝟎d", "/silence rut-spx-above-0.4 ٣d", "/alerts ٣"])
async def test_unicode_digits_are_a_usage_mistake(editor: CommandContext, text: str) -> None:
    assert (await dispatch(editor, text)).text.startswith("Usage: /")


async def test_a_rename_to_a_bidi_name_is_refused_with_an_example(editor: CommandContext) -> None:
    reply = await dispatch(editor, "/rename rut-spx-above-0.4 evil\u202egnp.exe")
    assert 'field "name": a rule name is letters, digits, ".", "_" and "-" (like rut-spx-above-0.4)' in reply.text
    assert "\u202e" not in reply.text and not editor.service.pending_edits


async def test_watch_refuses_a_symbol_that_is_a_path(editor: CommandContext) -> None:
    reply = await dispatch(editor, "/watch close ../../etc/passwd below 1")
    assert 'field "symbol": expected a symbol as Yahoo spells it (^GSPC, BRK-B, ES=F)' in reply.text
    assert not editor.service.pending_edits


# --- 14: an api_base_url that is not the Bot API ----------------------------------------------------


def test_a_base_url_answering_html_is_one_line_at_start(tmp_path: Path) -> None:
    """A whole process, as a user starts it: PTB's own logging must not print the traceback either."""
    with FakeTelegram() as tg:
        tg.fail_next("getMe", "html")
        path = config(tmp_path, f'[telegram]\napi_base_url = "{tg.base_url}"\nallowed_chats = [{ADMIN}]\n')
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
        command = [sys.executable, "-m", "bot", "--config", str(path), "run"]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"Error: {tg.base_url} does not answer as the Telegram Bot API (Invalid server response): "
        "check [telegram] api_base_url\n"
    )
