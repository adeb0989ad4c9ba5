"""Every echo of what a chat typed is escaped by one function (bot.answers.echo): a right-to-left override, a
zero-width space or a terminal escape comes back as ``\\u202e``, ``\\u200b``, ``\\x1b``, never as itself (it
would turn the reply around, hide a difference between two names, or drive the console's terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers import echo
from bot.chat import CommandContext, Service, dispatch
from bot.config import load_config
from bot.store.db import Store
from tests.support.tg_helpers import ADMIN, shipped_config_file

EVIL = "evil\u202ex"
SHOWN = "evil\\u202ex"


def visible(text: str) -> bool:
    """No character in ``text`` renders invisibly or reorders the line (a line break is fine)."""
    return all(c == "\n" or c.isprintable() for c in text)


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[CommandContext]:
    path = shipped_config_file(tmp_path, "http://127.0.0.1:9/bot")
    store = Store(tmp_path / "s.sqlite")
    yield CommandContext(Service(load_config(path), store, config_path=path), ADMIN, admin=True)
    store.close()


def test_echo_escapes_what_renders_invisibly_and_html() -> None:
    shown = "a\\u202eb\\u2066c\\u200bd\\x1b[2J\\xa0&lt;b&gt;&amp;\ne"
    assert echo("a\u202eb\u2066c\u200bd\x1b[2J\u00a0<b>&\ne") == shown
    assert echo("été 🚀 ⚠️ 日本") == "été 🚀 ⚠️ 日本"  # printable text of any script is itself
    assert echo('"x"', quote=True) == "&quot;x&quot;"


@pytest.mark.parametrize(
    "line",
    [
        f"/unsilence {EVIL}",
        f"/chart {EVIL}",
        f"/subscribe {EVIL}",
        f"/subscribe severity>={EVIL}",
        f"/history {EVIL}",
        f"/consensus 2024-06 {EVIL} 1",
        f"/{EVIL}",
        f"/help {EVIL}",
        f"/stats {EVIL}",
        f"/silence {EVIL} 2d",
        f"/watch {EVIL} SPY above 1",
        f"/set rut-spx-above-0.4 {EVIL} 1",
        f"/set rut-spx-above-0.4 threshold {EVIL}",
    ],
)
async def test_a_reply_shows_an_echoed_bidi_override_as_its_escape(admin: CommandContext, line: str) -> None:
    reply = await dispatch(admin, line)
    assert visible(reply.text), reply.text
    assert SHOWN in reply.text, reply.text


async def test_a_silence_reason_and_an_edited_message_are_shown_escaped(admin: CommandContext) -> None:
    await dispatch(admin, f"/silence rut-spx-above-0.4 2d {EVIL} \x1b[2J")
    listed = (await dispatch(admin, "/silences")).text
    assert visible(listed) and f"— {SHOWN} \\x1b[2J" in listed, listed
    preview = (await dispatch(admin, f'/set rut-spx-above-0.4 message "{EVIL}\u200b"')).text
    assert visible(preview) and f"{SHOWN}\\u200b" in preview, preview
