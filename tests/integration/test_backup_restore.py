"""`backup` and `restore` from the command line: a restore refused under a running bot, and a restored store from
which the check carries on, re-firing nothing and losing no alert."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.store import chats, outbox
from bot.store.backup import backups_of
from bot.store.db import Store
from tests.support.console_bot import first_bot_on, small_bot_config
from tests.support.scheduler_helpers import seed_prices

RULE = """
[[rules]]
name = "r1"
metric = "ratio"
numerator = "AAA"
denominator = "BBB"
condition = "crosses_above"
threshold = 0.4
"""


def cli(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A store where r1 fires on 2024-07-26, with a subscriber for its alert; backups in ``backups``."""
    store = Store(tmp_path / "s.sqlite")
    seed_prices(store)
    chats.subscribe(store, 111)
    store.close()
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "s.sqlite"\nbackups = "backups"\nkeep = 2\n{RULE}')
    return path


def alerts_and_outbox(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        alerts = conn.execute("SELECT key FROM alerts ORDER BY key").fetchall()
        rows = conn.execute("SELECT alert_key, chat_id, status FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()
    return alerts, rows


def test_backup_says_where_and_how_big_and_keeps_the_last_n(config: Path) -> None:
    for _ in range(3):
        code, out, err = cli(config, "backup")
        assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"Backed up {config.parent / 's.sqlite'} to {config.parent / 'backups' / 's-'}")
    assert "MB, integrity ok," in lines[0]
    assert lines[-1].startswith(f"2 backups in {config.parent / 'backups'} (keep = 2); removed s-")
    assert len(backups_of(config.parent / "s.sqlite", config.parent / "backups")) == 2
    other = config.parent / "elsewhere"
    code, out, _ = cli(config, "backup", "--to", str(other))
    assert code == 0 and f"1 backups in {other} (keep = 2)." in out


def test_backup_without_a_folder_is_one_line(tmp_path: Path) -> None:
    config = small_bot_config(tmp_path)
    code, out, err = cli(config, "backup")
    assert (code, out) == (1, "")
    assert err == "Error: no folder for the backup: give --to FOLDER, or set [store] backups in the config\n"


def test_restore_carries_on_re_firing_nothing_and_losing_no_alert(config: Path) -> None:
    store = config.parent / "s.sqlite"
    code, out, err = cli(config, "check", "--as-of", "2024-07-26")
    assert code == 0, err
    s = Store(store)
    assert len(outbox.pending_rows(s)) == 1  # queued for chat 111, not sent yet
    s.close()
    code, _, err = cli(config, "backup")
    assert code == 0, err
    [taken] = backups_of(store, config.parent / "backups")
    before = alerts_and_outbox(store)
    assert before == ([("r1|2024-07-26|firing",)], [("r1|2024-07-26|firing", 111, "pending")])
    with store.open("r+b") as f:  # the disk fails: the store's first page is gone
        f.write(os.urandom(4096))
    code, out, err = cli(config, "restore", str(taken))
    assert code == 0, err
    assert out.splitlines() == [
        f"Restored {store} from {taken}: 1 alerts, prices to 2024-07-26, 1 sends pending.",
        f"The store as it was is kept as {store}.before-restore.",
    ]
    assert alerts_and_outbox(store) == before  # no alert lost, the unsent one still to send, once
    code, out, err = cli(config, "check", "--as-of", "2024-07-26", "--format", "json")
    assert code == 0, err
    assert '"alerts": []' in out  # nothing re-fired
    assert alerts_and_outbox(store) == before
    assert (store.parent / "s.sqlite.before-restore").read_bytes()[:16] != b"SQLite format 3\0"  # kept as it was
    assert not list(store.parent.glob("*.restoring*"))


def test_restore_over_a_sound_store_keeps_it_and_a_reader_beside_it_sees_the_restored_one(config: Path) -> None:
    store = config.parent / "s.sqlite"
    code, _, err = cli(config, "backup")
    assert code == 0, err
    [taken] = backups_of(store, config.parent / "backups")
    code, _, err = cli(config, "check", "--as-of", "2024-07-26")  # after the backup: one alert more
    assert code == 0, err
    reader = Store(store)  # a `status` or `check` with the store open meanwhile
    assert reader.recent_alerts() != []
    code, out, err = cli(config, "restore", str(taken))
    assert code == 0, err
    assert reader.recent_alerts() == []  # the restored store, not a mix
    assert reader.integrity() == []
    reader.close()
    kept = Store(store.parent / "s.sqlite.before-restore")  # the store as it was, whole
    assert [a["rule"] for a in kept.recent_alerts()] == ["r1"]
    kept.close()
    code, out, err = cli(config, "check", "--as-of", "2024-07-26", "--format", "json")
    assert code == 0 and '"rule": "r1"' in out  # an alert lost with the days after the backup fires again


@pytest.fixture
def bot_config(tmp_path: Path) -> Path:
    return small_bot_config(tmp_path)


@pytest.fixture
def first_bot(bot_config: Path) -> Iterator[subprocess.Popen[str]]:
    yield from first_bot_on(bot_config)


def test_restore_is_refused_while_a_bot_runs_on_the_store(
    bot_config: Path, first_bot: subprocess.Popen[str], tmp_path: Path
) -> None:
    store = bot_config.parent / "s.sqlite"
    code, _, err = cli(bot_config, "backup", "--to", str(tmp_path / "b"))  # a backup is fine meanwhile
    assert code == 0, err
    [taken] = backups_of(store, tmp_path / "b")
    before = store.read_bytes()
    code, out, err = cli(bot_config, "restore", str(taken))
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line == (
        f"Error: another rotation-bot is already running on the store {store} (pid {first_bot.pid}): "
        "stop it first (systemctl stop rotation-bot, or Ctrl-C in its terminal), then restore"
    )
    assert store.read_bytes() == before
    assert not (bot_config.parent / "s.sqlite.before-restore").exists()


def test_restore_refuses_what_is_no_backup_and_changes_nothing(config: Path, tmp_path: Path) -> None:
    store = config.parent / "s.sqlite"
    before = store.read_bytes()
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    newer = tmp_path / "newer.sqlite"
    shutil.copy(store, newer)
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name) VALUES ('rotation-bot', 'm999_future')")
    conn.commit()
    conn.close()
    link = tmp_path / "link.sqlite"  # the store under another name
    os.link(store, link)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(store.read_bytes()[:8192])
    expected = {
        config: f"{config} is not a SQLite database (file is not a database): give a backup that rotation-bot backup "
        "wrote; nothing was changed",
        foreign: f"{foreign} is a SQLite file but not a rotation-bot store: nothing was changed",
        newer: f"{newer} was written by a newer rotation-bot (its schema has m999_future): update this checkout "
        "first (git pull, make setup); nothing was changed",
        link: f"{link} is the store itself ({store}): give a backup of it",
        tmp_path / "gone.sqlite": f"{tmp_path / 'gone.sqlite'} is not a file: give a backup that rotation-bot backup "
        "wrote",
    }
    for source, message in expected.items():
        code, out, err = cli(config, "restore", str(source))
        assert (code, out, err) == (1, "", f"Error: {message}\n"), source
    assert cli(config, "restore", str(tmp_path))[0] == 2  # a folder: click's usage line
    code, _, err = cli(config, "restore", str(damaged))
    assert code == 1 and err.startswith(f"Error: {damaged} is damaged (") and err.endswith("nothing was changed\n")
    assert store.read_bytes() == before
    assert not list(store.parent.glob("s.sqlite.*restor*"))


FULL_DISK = """
set -e
mount -t tmpfs -o size=64k tmpfs "$DIR"
set +e
"$PY" -m bot --config "$CONFIG" backup --to "$DIR" 2>&1
echo "exit $?"
ls -A "$DIR" >&2
"""


def test_a_full_backup_disk_is_one_line_and_leaves_nothing(config: Path) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("a private tmpfs needs unshare and root")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("no private mount namespace here")
    mnt = config.parent / "mnt"
    mnt.mkdir()
    env = {**os.environ, "DIR": str(mnt), "CONFIG": str(config), "PY": sys.executable}
    proc = subprocess.run(["unshare", "-m", "sh", "-c", FULL_DISK], env=env, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "exit 1", proc.stdout + proc.stderr
    [error] = lines[:-1]
    assert error.startswith(f"Error: cannot write the backup in {mnt}: the disk is full ("), error
    assert error.endswith("; the store is untouched and earlier backups kept")
    assert proc.stderr == ""  # no partial file left on the full disk


def test_restore_on_a_new_machine_with_no_store_yet(config: Path, tmp_path: Path) -> None:
    store = config.parent / "s.sqlite"
    code, _, err = cli(config, "backup", "--to", str(tmp_path / "usb"))
    assert code == 0, err
    [taken] = backups_of(store, tmp_path / "usb")
    for old in config.parent.glob("s.sqlite*"):  # the disk is gone, and the store with it
        old.unlink()
    code, out, err = cli(config, "restore", str(taken))
    assert (code, err) == (0, "")
    assert out == f"Restored {store} from {taken}: 0 alerts, prices to 2024-07-26, 0 sends pending.\n"
    assert not (config.parent / "s.sqlite.before-restore").exists()
    code, out, err = cli(config, "check", "--as-of", "2024-07-26", "--format", "json")
    assert code == 0 and '"rule": "r1"' in out, err
