"""Store faults are one line that names the file and what to do: a second bot, a corrupt, read-only or full store."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bot.chat import CommandContext, Service, dispatch
from bot.cli import main
from bot.config import load_config
from bot.store import Store
from bot.store.base import StoreBase
from tests.support.console_bot import first_bot_on, small_bot_config, start_console
from tests.support.faultkit import corrupt_in_the_middle
from tests.support.tg_helpers import ALLOWED


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return small_bot_config(tmp_path)


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


# --- one instance per store ---------------------------------------------------------------------


@pytest.fixture
def first_bot(config: Path) -> Iterator[subprocess.Popen[str]]:
    yield from first_bot_on(config)


def test_a_second_run_on_the_same_store_refuses_and_names_the_first(
    config: Path, first_bot: subprocess.Popen[str]
) -> None:
    second = start_console(config)
    out, err = second.communicate(input="/help\n", timeout=60)
    assert second.returncode == 1
    assert err.strip().splitlines() == [
        f"Error: another rotation-bot is already running on the store {config.parent / 's.sqlite'} "
        f"(pid {first_bot.pid}): stop it first, or give this one its own [store] path"
    ]
    assert out == ""


def test_kill_9_releases_the_lock_so_a_restart_runs(config: Path, first_bot: subprocess.Popen[str]) -> None:
    first_bot.send_signal(signal.SIGKILL)
    first_bot.wait(timeout=30)
    again = start_console(config)
    out, err = again.communicate(input="/rules\n", timeout=60)
    assert again.returncode == 0, err
    assert "a-above-1" in out


# --- corrupt, read-only, full ---------------------------------------------------------------------


def test_a_corrupt_store_is_one_line_with_the_way_out(config: Path) -> None:
    store = config.parent / "s.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    store.write_bytes(b"this is not sqlite" * 500)
    for args in (["check"], ["status"], ["replay", "--from", "2024-01-01"]):
        code, err = cli(config, *args)
        assert code == 1
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"Error: the store {store} is corrupt") and ".recover" in lines[0]


def test_status_runs_an_integrity_check(config: Path) -> None:
    store = config.parent / "s.sqlite"
    corrupt_in_the_middle(store)
    code, err = cli(config, "status")
    assert code == 1
    assert f"the store {store} is corrupt" in err


def test_run_on_a_store_corrupt_in_the_middle_refuses_to_start_in_one_line(config: Path) -> None:
    """It used to start, then answer /rules, /breadth, /digest, /stats and /set with "something went wrong"."""
    store = config.parent / "s.sqlite"
    corrupt_in_the_middle(store)
    bot = start_console(config)
    out, err = bot.communicate(input="/rules\n/digest\n", timeout=60)
    assert bot.returncode == 1
    [line] = err.strip().splitlines()
    assert line.startswith(f"Error: the store {store} is corrupt (database disk image is malformed: ")
    assert line.endswith(
        f"recover it with `sqlite3 {store} .recover | sqlite3 {store.with_suffix('.recovered.sqlite')}` and point "
        "[store] path there, or put a backup back with rotation-bot restore FILE"
    )
    assert out == ""


@pytest.mark.parametrize(
    ("pragma", "words"),
    [
        ("PRAGMA query_only = 1", "is read-only"),  # what a read-only file or folder gives
        ("PRAGMA max_page_count = 1", "is full"),  # SQLite's own 'database or disk is full'
    ],
    ids=["read-only", "full"],
)
def test_a_store_that_cannot_be_written_is_one_line_and_nothing_half_written(
    config: Path, monkeypatch: pytest.MonkeyPatch, pragma: str, words: str
) -> None:
    store = Store(config.parent / "s.sqlite")
    before = store.db.execute("SELECT COUNT(*) FROM rule_state").fetchone()[0]
    store.close()
    opened = StoreBase.__init__

    def then_break(self: StoreBase, path: str | Path) -> None:
        opened(self, path)
        if pragma.startswith("PRAGMA max_page_count"):
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {pages}")
        else:
            self.db.execute(pragma)

    monkeypatch.setattr(StoreBase, "__init__", then_break)
    code, err = cli(config, "fetch", "--source", "csv", "--path", str(write_prices(config.parent)))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "nothing was half-written" in lines[0], err
    monkeypatch.undo()
    store = Store(config.parent / "s.sqlite")
    assert store.db.execute("SELECT COUNT(*) FROM rule_state").fetchone()[0] == before
    assert "BBB" not in store.symbols()
    store.close()


def write_prices(folder: Path) -> Path:
    data = folder / "csv"
    data.mkdir()
    days = [d.date().isoformat() for d in pd.bdate_range("2000-01-03", periods=3000)]  # more than the free pages
    rows = "\n".join(f"{d},,,,{100 + i},{100 + i}," for i, d in enumerate(days))
    (data / "BBB.csv").write_text("date,open,high,low,close,adj_close,volume\n" + rows + "\n")
    return data


@pytest.mark.parametrize("line", ["/rules", "/stats a-above-1"])
async def test_a_store_that_turns_corrupt_while_running_is_one_line_in_chat(config: Path, line: str) -> None:
    """Corruption found after the start check (a failing disk) answers like the CLI, not "something went wrong"."""
    store_path = config.parent / "s.sqlite"
    corrupt_in_the_middle(store_path)
    store = Store(store_path)
    try:
        reply = await dispatch(CommandContext(Service(load_config(config), store), ALLOWED), line)
    finally:
        store.close()
    assert reply.text.startswith(f"⚠️ the store {store_path} is corrupt ("), reply.text
    assert ".recover" in reply.text


THIRD_DAY = "(SELECT date FROM prices ORDER BY date LIMIT 1 OFFSET 2)"


@pytest.mark.parametrize(
    ("sql", "args"),
    [
        (f"UPDATE prices SET date = ? WHERE date = {THIRD_DAY}", ["1-03\x03\x03\x14"]),  # seen from a bad page
        (f"UPDATE prices SET close = ?, adj_close = ? WHERE date = {THIRD_DAY}", [b"\x03\x14", b"\x03\x14"]),
        ("UPDATE price_columns SET days = substr(days, 1, 13)", []),  # a stored column cut short
    ],
    ids=["date", "close", "column"],
)
async def test_a_stored_value_that_reads_back_wrong_is_a_corrupt_store_not_a_traceback(
    config: Path, sql: str, args: list[object]
) -> None:
    """SQLite keeps no checksums: a bad page can read back as values it finds nothing wrong with."""
    store_path = config.parent / "s.sqlite"
    store = Store(store_path)
    if "price_columns" in sql:
        store.load_prices(["AAA"])  # stores the column read next
    store.db.execute(sql, args)
    store.close()
    store = Store(store_path)
    try:
        replies = [
            await dispatch(CommandContext(Service(load_config(config), store), ALLOWED), line)
            for line in ("/rules", "/stats a-above-1")
        ]
    finally:
        store.close()
    for reply in replies:
        assert reply.text.startswith(
            f"⚠️ the store {store_path} is corrupt (database disk image is malformed: a stored value reads "
        ), reply.text
        assert ".recover" in reply.text
    code, err = cli(config, "check")
    assert code == 1 and "is corrupt (database disk image is malformed: a stored value reads " in err, err


def test_a_console_whose_reader_went_away_ends_quietly(config: Path) -> None:
    """`run --console | head -3` logged "command '/rules' failed" with a BrokenPipeError traceback."""
    bot = start_console(config)
    assert bot.stdin is not None and bot.stdout is not None and bot.stderr is not None
    bot.stdin.write("/help\n")
    bot.stdin.flush()
    bot.stdout.readline()
    bot.stdout.close()  # what `| head -1` does once it has its line
    bot.stdin.write("/rules\n/help\n/ratio\n")
    bot.stdin.close()
    err = bot.stderr.read()
    assert bot.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
