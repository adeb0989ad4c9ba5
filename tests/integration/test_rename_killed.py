"""`rules rename` killed (-9) after config.toml was replaced, before the edit was recorded: whatever reads the new
file next (the running bot's reload, its daily check, a `check` on the command line) first settles the edit, so the
rule's routes, silences and state follow it to the new name.

Before, the bot reloaded ("added ratio-up; removed r1") and the check routed by the new name over rows still kept
under the old one: the chat that follows the rule got nothing, the chat that silenced it got the alert, and the edit
stayed pending.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.edits
from bot.chat.service import RunOptions, Service
from bot.cli import main
from bot.config.reload import ConfigHolder
from bot.config.settings import load_config
from bot.jobs.check import run_check
from bot.jobs.scheduler import BotScheduler
from bot.store import chats
from bot.store.db import Store
from tests.support.paths import REPO
from tests.support.scheduler_helpers import Clock, et, seed_prices, write_config

DAY, EVE = dt.date(2024, 7, 26), dt.date(2024, 7, 25)
FOLLOWS, SILENCED = 1001, 1002
AFTER_CLOSE = et(2024, 7, 26, 17, 31)
TELEGRAM = f"\n[telegram]\nallowed_chats = [{FOLLOWS}, {SILENCED}]\nadmin_chats = [{FOLLOWS}]\n"

CHILD = """
import os, signal, sys
import bot.config.edit as edit
from bot.cli import main

def crash(point: str) -> None:
    if point == "replaced":
        os.kill(os.getpid(), signal.SIGKILL)

edit.crash_point = crash
main(["--config", sys.argv[1], "rules", "rename", "r1", "ratio-up"])
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """r1 checked to the eve of the day it fires; 1001 follows only r1, 1002 follows everything but silenced r1."""
    path = tmp_path / "config.toml"
    write_config(path, extra=TELEGRAM)
    store = Store(tmp_path / "s.sqlite")
    try:
        seed_prices(store, last=DAY.isoformat())
        run_check(store, load_config(path), as_of=EVE)
        chats.subscribe(store, FOLLOWS, chats.Route(rules=("r1",)))
        chats.subscribe(store, SILENCED)
        chats.silence(store, SILENCED, "r1", dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    finally:
        store.close()
    return path


def kill_rename(cfg: Path) -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, str(cfg)], cwd=REPO, capture_output=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert 'name = "ratio-up"' in cfg.read_text()


def after(cfg: Path) -> tuple[list[tuple[str, int]], list[str], list[str]]:
    """The alert rows queued (key, chat), the rules whose state is stored, and the edit history's renames."""
    store = Store(cfg.parent / "s.sqlite")
    try:
        rows = store.db.execute("SELECT alert_key, chat_id FROM outbox WHERE alert_key NOT LIKE '@%' ORDER BY id")
        queued = [(str(k), int(c)) for k, c in rows.fetchall()]
        states = sorted(store.load_states())
        renames = [f"#{r.id} {r.rule} → {r.edit_json}" for r in bot.edits.history(store, None)]
    finally:
        store.close()
    return queued, states, renames


EXPECTED = [(f"ratio-up|{DAY}|firing", FOLLOWS)]


def check_followed_the_rename(cfg: Path) -> None:
    queued, states, renames = after(cfg)
    assert queued == EXPECTED  # 1001 follows the renamed rule; 1002's silence holds under the new name
    assert states == ["ratio-up"]
    assert len(renames) == 1 and renames[0].startswith("#1 r1 → ") and '"ratio-up"' in renames[0], renames


def test_a_check_on_the_command_line_settles_the_rename_first(cfg: Path) -> None:
    kill_rename(cfg)
    result = CliRunner().invoke(main, ["--config", str(cfg), "check", "--as-of", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "ratio-up" in result.stdout and "r1 " not in result.stdout
    check_followed_the_rename(cfg)


def running(cfg: Path) -> Service:
    """The bot's service as `rotation-bot run` builds it, on a clock just after the day's close, offline."""
    service = Service(load_config(cfg), Store(cfg.parent / "s.sqlite"), cfg, RunOptions(True, Clock(AFTER_CLOSE)))
    assert service.scheduler is not None
    service.scheduler.fetch_prices = lambda store, config: None
    return service


def admin_notices(service: Service) -> list[str]:
    rows = service.store.db.execute("SELECT text FROM outbox WHERE alert_key LIKE '@admin%' ORDER BY id")
    return [str(r[0]) for r in rows.fetchall()]


async def test_the_running_bot_reloads_a_killed_rename_with_its_routes_and_silences(cfg: Path) -> None:
    service = running(cfg)
    try:
        kill_rename(cfg)
        await service.watch_config()
        assert admin_notices(service) == ["config.toml reloaded: 1 rules; added ratio-up; removed r1"]
        assert bot.edits.history(service.store, None)[0].rule == "r1"  # recorded at the reload, not pending
        await service.run_scheduler()
    finally:
        service.store.close()
    check_followed_the_rename(cfg)


def test_the_daily_check_reads_the_file_as_it_now_is_before_the_watcher_does(cfg: Path) -> None:
    """A check that settled the edit but kept the rules loaded before it would route the old name over rows now
    kept under the new one: the same break. It settles and reloads together, and the admins hear of the reload."""
    holder = ConfigHolder.load(cfg)
    scheduler = BotScheduler(holder, now=Clock(AFTER_CLOSE), fetch_prices=lambda s, c: None, settle=bot.edits.settle)
    kill_rename(cfg)
    assert scheduler.tick() == [f"daily {DAY}: checked 1 rules as of {DAY}: 1 new alerts"]
    assert [r.name for r in holder.config.rules] == ["ratio-up"]
    assert scheduler.messages == ["config.toml reloaded: 1 rules; added ratio-up; removed r1"]
    check_followed_the_rename(cfg)


async def test_a_reload_the_store_could_not_settle_is_settled_by_the_next_check(cfg: Path) -> None:
    """The store read-only at the reload: the edit stays pending (and the new file is in force); the daily check,
    once the store writes again, settles it before it routes."""
    service = running(cfg)
    try:
        kill_rename(cfg)
        service.store.db.execute("PRAGMA query_only = 1")
        await service.watch_config()
        assert [r.name for r in service.config.rules] == ["ratio-up"]
        assert bot.edits.history(service.store, None) == []  # still an intent: nothing could be written
        service.store.db.execute("PRAGMA query_only = 0")
        await service.run_scheduler()  # the scheduler's own connection
    finally:
        service.store.close()
    check_followed_the_rename(cfg)
