"""Fuzz every bot command's arguments: the reply is always text (the usage line when the arguments
do not fit), never an exception, whatever a chat types, and nothing in it renders invisibly or backwards (an echo
of a control or bidi character is its escape).

Commands come from the one command table (``COMMANDS`` in bot/chat/commands.py), so a new command is fuzzed
without touching this file. The store holds a little generated data (^RUT/^GSPC, one check run and
its alerts), so the commands reach their real query and render paths.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.answers.render import e
from bot.calendar import CHART_PERIODS
from bot.chat import (
    BY_NAME,
    COMMANDS,
    MAX_ALERTS,
    Command,
    CommandContext,
    Reply,
    dispatch,
    run_command,
)
from bot.chat.service import Service
from bot.jobs.check import run_check
from bot.store import chats, outbox
from bot.store.db import Store
from tests.support.tg_helpers import ADMIN, ALLOWED, RULES, load_prices, tg_config

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULE_NAMES = [str(r["name"]) for r in RULES]

# Tokens that reach the valid paths, and the classic troublemakers.
TOKENS = st.sampled_from(
    [
        *RULE_NAMES,
        *CHART_PERIODS,
        "ratio",
        "breadth",
        "5",
        str(MAX_ALERTS),
        "0",
        "-1",
        "+3",
        "٣",  # an Arabic-Indic 3: int() accepts it, the commands do not
        "1_0",
        "2h",
        "90d",
        "91d",
        "9999w",
        "0m",
        "1e400",
        "nan",
        "inf",
        "-inf",
        str(10**30),
        str(-(10**30)),
        "9" * 5000,
        "",
        " ",
        "\x00",
        "<b>",
        "&amp;",
        "/help",
        "@rotation_test_bot",
        "🚀",
        "İ",
        "\u202e",
        "evil\u2066x",
        "\u200b",
        "\x1b[2J",
    ]
)
ARG = st.one_of(
    TOKENS,
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
ARGS = st.lists(ARG, max_size=4)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    config = tg_config(tmp)
    store = Store(config.store_path)
    load_prices(store)
    chats.subscribe(store, ALLOWED)
    run_check(store, config, sink=outbox.enqueue_alerts)
    yield Service(config, store)
    store.close()


def visible(text: str) -> bool:
    """No character renders invisibly or reorders the line: what bot.answers.echo guarantees of every echo."""
    return all(c == "\n" or c.isprintable() for c in text)


def bad_arity(command: Command, args: list[str]) -> bool:
    """Argument lists that can never fit the command, from its documented usage alone."""
    if command.name == "start":
        return False  # /start takes a deep-link payload, which it ignores
    tokens = re.findall(r"\[[^\]]*\]|\S+", command.usage)
    optional = sum(1 for t in tokens if t.startswith("["))
    required = len(tokens) - optional
    # "[X…]": any number more; "X…": one or more
    most = len(args) if any(t.endswith("…]") or t.endswith("…") for t in tokens) else required + optional
    return not required <= len(args) <= most


def is_usage(command: Command, reply: Reply) -> bool:
    """The usage line (a command may add a second sentence, such as the valid values)."""
    return reply.text.startswith(e(command.usage_line))


def run(service: Service, command: Command, args: list[str], admin: bool) -> Reply:
    ctx = CommandContext(service, ADMIN if admin else ALLOWED, admin=admin)
    return asyncio.run(run_command(ctx, command, args))


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
@FUZZ
@given(args=ARGS, admin=st.booleans())
@example(args=[], admin=True)  # the valid path of every command without arguments
@example(args=["ratio", "5y"], admin=False)  # a chart that renders
@example(args=[RULE_NAMES[0]], admin=False)  # a real rule for /stats
@example(args=["7"], admin=False)
@example(args=["2h"], admin=False)
def test_any_arguments_get_a_text_reply(service: Service, command: Command, args: list[str], admin: bool) -> None:
    reply = run(service, command, args, admin)
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str) and reply.text.strip()
    assert visible(reply.text), (args, reply.text)
    assert reply.photo is None or isinstance(reply.photo, bytes)
    if command.admin and not admin:
        assert reply.text == f"/{command.name} is for admins only."
    elif bad_arity(command, args):
        assert is_usage(command, reply), (args, reply.text)


def fits_alerts(text: str) -> bool:
    """/alerts N: ASCII digits, 1..MAX_ALERTS (int() would also read signs, underscores, any script's digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_ALERTS


def fits_mute(text: str) -> bool:
    """/mute DURATION: 1-4 ASCII digits and m, h, d or w, more than nothing and at most 90 days."""
    t = text.strip().lower()
    if not 2 <= len(t) <= 5 or t[-1] not in "mhdw" or not (t[:-1].isascii() and t[:-1].isdecimal()):
        return False
    minutes = int(t[:-1]) * {"m": 1, "h": 60, "d": 1440, "w": 10080}[t[-1]]
    return 0 < minutes <= 90 * 1440


@pytest.mark.parametrize("name", ["alerts", "mute", "chart"])
@FUZZ
@given(arg=ARG)
def test_one_value_gets_the_usage_line_exactly_when_it_does_not_fit(service: Service, name: str, arg: str) -> None:
    command = BY_NAME[name]
    args, fits = {
        "alerts": ([arg], fits_alerts(arg)),
        "mute": ([arg], fits_mute(arg)),
        "chart": (["ratio", arg], arg in CHART_PERIODS),
    }[name]
    reply = run(service, command, args, admin=False)
    assert is_usage(command, reply) is not fits, (arg, reply.text)


@FUZZ
@given(
    line=st.one_of(
        st.text(max_size=60),
        st.tuples(st.sampled_from(list(BY_NAME)), ARGS).map(lambda t: " ".join([f"/{t[0]}", *t[1]])),
    )
)
def test_any_line_gets_a_text_reply(service: Service, line: str) -> None:
    ctx = CommandContext(service, ALLOWED, admin=False)
    reply = asyncio.run(dispatch(ctx, line))
    assert isinstance(reply.text, str) and reply.text.strip()
    assert visible(reply.text), (line, reply.text)
