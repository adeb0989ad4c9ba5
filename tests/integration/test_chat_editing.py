"""Rules from the phone, through the real PTB Application against the fake Bot API: /set previews a diff and the
what-if, Apply writes config.toml (every comment kept) and reloads; strangers and non-editors change nothing; an
Apply after the file changed on disk is refused; /undo, /watch, /history; Apply and Cancel are hidden rows of the
one command table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat import COMMANDS, Service
from bot.config import load_config
from bot.store.db import Store
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ALLOWED, EDITOR, STRANGER, build, load_prices, running, shipped_config_file

RULE = "rut-spx-above-0.4"


@pytest.fixture
def config_path(tmp_path: Path, tg: FakeTelegram) -> Path:
    return shipped_config_file(tmp_path, tg.base_url)


@pytest.fixture
def editing(config_path: Path) -> Iterator[Service]:
    config = load_config(config_path)
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=config_path)
    store.close()


async def say(tg: FakeTelegram, chat: int, text: str) -> dict[str, object]:
    """Send ``text`` as ``chat``; the bot's next reply's request parameters."""
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before, timeout=30)
    return tg.sent(chat)[before].params


async def press(tg: FakeTelegram, chat: int, reply: dict[str, object], label: str) -> str:
    markup = reply["reply_markup"]
    rows = json.loads(markup) if isinstance(markup, str) else markup
    assert isinstance(rows, dict)
    [data] = [b["callback_data"] for row in rows["inline_keyboard"] for b in row if label in b["text"]]
    before = len(tg.sent(chat))
    tg.push_press(chat, data)
    await tg.wait_until(lambda: len(tg.sent(chat)) > before, timeout=30)
    return tg.sent(chat)[before].text


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


async def test_set_previews_then_apply_writes_the_file_keeps_every_comment_and_reloads(
    tg: FakeTelegram, editing: Service, config_path: Path
) -> None:
    original = config_path.read_text()
    app = build(editing)
    async with running(app):
        reply = await say(tg, EDITOR, f"/set {RULE} threshold 0.42")
        text = str(reply["text"])
        assert "-threshold = 0.4" in text and "+threshold = 0.42" in text  # the diff
        assert "as is" in text and "edited" in text  # the what-if, side by side
        assert config_path.read_text() == original  # nothing written before Apply
        done = await press(tg, EDITOR, reply, "Apply")
    assert done.startswith("✅ Applied")
    new = config_path.read_text()
    assert "threshold = 0.42" in new and comments(new) == comments(original)
    assert next(r for r in editing.config.rules if r.name == RULE).spec.threshold == 0.42  # reloaded


async def test_a_stranger_and_a_non_editor_change_nothing(
    tg: FakeTelegram, editing: Service, config_path: Path
) -> None:
    before = config_path.read_bytes()
    app = build(editing)
    async with running(app):
        refused = await say(tg, STRANGER, f"/set {RULE} threshold 0.42")
        not_editor = await say(tg, ALLOWED, f"/set {RULE} threshold 0.42")
    assert "private" in str(refused["text"])
    assert "only editor chats may change rules" in str(not_editor["text"])
    assert "reply_markup" not in not_editor or not not_editor["reply_markup"]
    assert config_path.read_bytes() == before


async def test_apply_after_the_file_changed_on_disk_is_refused_and_nothing_is_lost(
    tg: FakeTelegram, editing: Service, config_path: Path
) -> None:
    app = build(editing)
    async with running(app):
        reply = await say(tg, EDITOR, f"/set {RULE} threshold 0.42")
        hand_edited = config_path.read_text().replace("# Check it with:", "# Checked by hand. Check it with:")
        config_path.write_text(hand_edited)
        answer = await press(tg, EDITOR, reply, "Apply")
    assert "changed on disk since the preview: nothing was written" in answer
    assert config_path.read_text() == hand_edited


async def test_cancel_writes_nothing_and_a_used_preview_cannot_be_applied(
    tg: FakeTelegram, editing: Service, config_path: Path
) -> None:
    before = config_path.read_bytes()
    app = build(editing)
    async with running(app):
        reply = await say(tg, EDITOR, f"/disable {RULE}")
        assert (await press(tg, EDITOR, reply, "Cancel")) == "Cancelled: nothing was written."
        again = await press(tg, EDITOR, reply, "Apply")
    assert "no longer open" in again
    assert config_path.read_bytes() == before


async def test_watch_adds_a_rule_history_lists_it_and_undo_takes_it_back(
    tg: FakeTelegram, editing: Service, config_path: Path
) -> None:
    original = config_path.read_bytes()
    app = build(editing)
    async with running(app):
        reply = await say(tg, EDITOR, "/watch ratio ^RUT ^GSPC crosses_above 0.42")
        assert (await press(tg, EDITOR, reply, "Apply")).startswith("✅ Applied")
        added = re.search(r'name = "([^"]+)"', config_path.read_text().split("[[rules]]")[-1])
        assert added is not None and added.group(1) in [r.name for r in editing.config.rules]
        history = str((await say(tg, EDITOR, "/history"))["text"])
        assert f"chat {EDITOR}" in history and added.group(1) in history
        undo = await say(tg, EDITOR, "/undo")
        assert (await press(tg, EDITOR, undo, "Apply")).startswith("✅ Applied")
    assert config_path.read_bytes() == original


def test_apply_and_cancel_are_buttons_of_the_one_table_but_not_in_the_menu() -> None:
    names = {c.name: c for c in COMMANDS}
    assert not names["apply"].menu and not names["cancel"].menu
    assert all(names[n].menu for n in ("set", "enable", "disable", "watch", "rename", "history", "undo"))
