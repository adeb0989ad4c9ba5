"""Every command the bot names in a hint works as written, offline too: a newcomer on a fresh clone, with no
network, runs what the empty store's answers tell them to run (`rotation-bot fetch` alone fetches from Yahoo)."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from bot.answers.evidence import MAX_FIRINGS_IN_CHAT, stats_html
from bot.cli.main import main
from bot.config import find_rule
from bot.config.settings import load_config
from bot.market.track import track_record_for
from bot.store import Store
from tests.support.factories import price_frame
from tests.support.paths import REPO

NAMED = re.compile(r"`(rotation-bot [^`]*)`")
# A command named outside backticks cannot be copied whole (where does it end?): every hint quotes it.
BARE = re.compile(r"(?<!`)rotation-bot (?:{})\b".format("|".join(main.commands)))
ASKED = ["/ratio", "/breadth", "/cpi", "/chart ratio", "/stats rut-spx-above-0.4", "/rotation", "/digest"]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config.toml on a store that holds nothing yet, as after `make setup`."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text().replace("data/rotation-bot.sqlite", "s.sqlite"))
    return config


def invoke(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)
    return result.exit_code, result.stdout + result.stderr


def parse(command: str, folder: Path) -> list[str]:
    """The command's words with DIR filled in, after click has parsed them as `rotation-bot` would (a wrong
    command, option or a missing argument is a UsageError here, and nothing runs)."""
    words = [folder.as_posix() if w == "DIR" else w for w in shlex.split(command)[1:]]
    group: click.Group = main
    ctx = group.make_context("rotation-bot", list(words))
    rest = remaining(ctx)
    while True:
        name, cmd, rest = group.resolve_command(ctx, rest)
        assert cmd is not None and name is not None, command
        ctx = cmd.make_context(name, rest, parent=ctx)
        if not isinstance(cmd, click.Group):
            return words
        group, rest = cmd, remaining(ctx)


def remaining(ctx: click.Context) -> list[str]:
    """The words a group left for its subcommand (click 8 keeps the subcommand's name apart, click 9 will not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*getattr(ctx, "protected_args", []), *ctx.args]


def csv_folder(folder: Path) -> Path:
    """A folder of SYMBOL.csv files in the offline format (../shared/data's), small."""
    folder.mkdir()
    days = 300
    for symbol, close in {"^GSPC": np.full(days, 5000.0), "^RUT": np.full(days, 1900.0)}.items():
        frame = price_frame(close)
        lines = ["date,open,high,low,close,adj_close,volume"]
        lines += [f"{d.date()},,,,{c},{c}," for d, c in zip(frame.index, frame["close"], strict=True)]
        (folder / f"{symbol}.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_every_hint_on_an_empty_store_names_a_command_that_works_offline(fresh: Path, tmp_path: Path) -> None:
    answers = [
        invoke(fresh, *args)[1]
        for args in (
            ["check"],
            ["replay", "--from", "2000-01-01"],
            ["stats", "rut-spx-above-0.4"],
            ["rotation"],
            ["chart", "ratio", "--out", str(tmp_path / "c.png")],
            ["whatif", "rut-spx-above-0.4"],
        )
    ]
    answers.append(invoke(fresh, "run", "--console", stdin="\n".join(ASKED) + "\n")[1])
    assert not [a for a in answers if BARE.search(a)]
    named = {c for a in answers for c in NAMED.findall(a)}
    fetches = {c for c in named if c.split()[1] == "fetch"}
    assert fetches  # the empty store does send people to fetch
    for answer in answers:
        online = [c for c in NAMED.findall(answer) if c.split()[1] == "fetch" and "--source csv" not in c]
        assert not online or "--source csv --path DIR" in answer, f"no offline way in: {answer}"
    data = csv_folder(tmp_path / "csv")
    for command in sorted(named):
        parse(command, data)
    for command in sorted(c for c in fetches if "--source csv" in c):
        code, out = invoke(fresh, *parse(command, data))
        assert code == 0, out
    store = Store(tmp_path / "s.sqlite")
    assert store.latest_date() is not None
    store.close()
    assert invoke(fresh, "rotation")[0] == 0  # the hint it gave now has its answer


def test_the_watch_hint_for_an_unknown_symbol_names_whole_commands(fresh: Path, tmp_path: Path) -> None:
    code, out = invoke(fresh, "run", "--console", stdin="/watch close NOPE below 1\n")
    assert code == 0 and "no stored prices for NOPE" in out, out
    assert not BARE.search(out)
    named = NAMED.findall(out)
    assert "rotation-bot fetch --symbol NOPE" in named and "rotation-bot fetch --source csv --path DIR" in named
    for command in named:
        parse(command, tmp_path)


def test_a_track_record_cut_short_in_chat_names_the_command_with_its_rule(tmp_path: Path) -> None:
    """`rotation-bot stats` alone is a usage error: the hint names the rule."""
    t = np.arange(1200)
    store = Store(tmp_path / "s.sqlite")
    store.upsert_prices("^GSPC", price_frame(1000 + t, start="2015-01-02"))  # 1,200 days that have all closed
    store.upsert_prices("^RUT", price_frame((0.4 + 0.03 * np.sin(t / 6.0)) * (1000 + t), start="2015-01-02"))
    (tmp_path / "config.toml").write_text(
        '[store]\npath = "s.sqlite"\n\n[[rules]]\nname = "cross"\nmetric = "ratio"\nnumerator = "^RUT"\n'
        'denominator = "^GSPC"\ncondition = "crosses_above"\nthreshold = 0.4\n'
    )
    config = load_config(tmp_path / "config.toml")
    record = track_record_for(store, config, "cross")
    store.close()
    assert len(record.firings) > MAX_FIRINGS_IN_CHAT
    text = stats_html(record, find_rule(config, "cross"))
    assert not BARE.search(text)
    (command,) = NAMED.findall(text)
    assert command == "rotation-bot stats cross"
    parse(command, tmp_path)
