"""Long and heavily escaped arguments against a fake Bot API that parses HTML and counts the limits as Telegram
does (each case a break found by a probe): every reply is one Telegram takes, never "something went wrong"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers import fit_html, split_message
from bot.chat import Service
from bot.config import load_config
from bot.store.db import Store
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ADMIN, ALLOWED, EDITOR, build, load_prices, running, shipped_config_file
from tests.support.tg_html import html_problem, visible_length

RULE = "rut-spx-above-0.4"


@pytest.fixture
def editing(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    tg.enforce_limits = True  # Telegram's own refusals: over 4096 characters, HTML it cannot parse
    path = shipped_config_file(tmp_path, tg.base_url)
    config = load_config(path)
    store = Store(config.store_path)
    load_prices(store)
    yield Service(config, store, config_path=path)
    store.close()


async def answer(tg: FakeTelegram, chat: int, text: str) -> dict[str, object]:
    """Send ``text`` as ``chat``; the request parameters of the bot's next answer, whether Telegram took it or not."""
    before = len(tg.calls("sendMessage", chat, outcome=None))
    tg.push_text(chat, text)
    await tg.wait_until(lambda: len(tg.calls("sendMessage", chat, outcome=None)) > before, timeout=30)
    return tg.calls("sendMessage", chat, outcome=None)[before].params


def assert_taken(tg: FakeTelegram, chat: int) -> None:
    """Every answer to ``chat`` parsed and fitted; nothing went to the admins as an error."""
    refused = [(r.outcome, r.text[:80]) for r in tg.calls("sendMessage", chat, outcome=None) if r.outcome != "ok"]
    assert refused == []
    assert tg.calls("sendMessage", ADMIN, outcome=None) == []


@pytest.mark.parametrize("char", ["&", "<", '"'])
async def test_a_preview_of_a_heavily_escaped_message_keeps_its_diff_whole(
    tg: FakeTelegram, editing: Service, char: str
) -> None:
    """``/set rut-spx-above-0.4 message &&&…`` (700 of them): the preview fits 4096 characters as Telegram counts
    them, but its HTML is five times longer, and the reply was cut at 4000 characters of HTML inside its <pre>
    diff. Telegram refused it ("can't parse entities"), the editor got "something went wrong" and no Apply."""
    async with running(build(editing)):
        reply = await answer(tg, EDITOR, f"/set {RULE} message {char * 700}")
    assert_taken(tg, EDITOR)
    text = str(reply["text"])
    assert html_problem(text) is None and visible_length(text, "HTML") <= 4096
    assert "Nothing is written until you press Apply." in text  # the whole preview, not a cut one
    markup = reply["reply_markup"]
    rows = json.loads(markup) if isinstance(markup, str) else markup
    assert isinstance(rows, dict) and "Apply" in json.dumps(rows, ensure_ascii=False)


@pytest.mark.parametrize("line", ["/stats " + "&" * 4080, "/chart " + "a&" * 2040, "/stats " + "<" * 4080])
async def test_an_echoed_argument_cut_to_fit_is_not_cut_inside_an_entity(
    tg: FakeTelegram, editing: Service, line: str
) -> None:
    """``/stats &&&…`` (4080): the one-line answer quotes the argument escaped, and the cut to fit a message fell
    in the middle of an ``&amp;``. Telegram refused it, and the chat got "something went wrong"."""
    async with running(build(editing)):
        reply = await answer(tg, ALLOWED, line)
    assert_taken(tg, ALLOWED)
    text = str(reply["text"])
    assert html_problem(text) is None and visible_length(text, "HTML") <= 4096 and text.endswith("…")


async def test_applying_a_long_message_says_so_in_one_fitting_reply_and_history_lists_it(
    tg: FakeTelegram, editing: Service
) -> None:
    """Apply of ``message <b>&<b>&…`` (1000 of them): "✅ Applied: …" quoted both values whole, on one line cut
    inside an entity; /history then had one line longer than a message."""
    async with running(build(editing)):
        preview = await answer(tg, EDITOR, f"/set {RULE} message {'<b>&' * 1000}")
        markup = preview["reply_markup"]
        rows = json.loads(markup) if isinstance(markup, str) else markup
        assert isinstance(rows, dict)
        [data] = [b["callback_data"] for row in rows["inline_keyboard"] for b in row if "Apply" in b["text"]]
        before = len(tg.calls("sendMessage", EDITOR, outcome=None))
        tg.push_press(EDITOR, data)
        await tg.wait_until(lambda: len(tg.calls("sendMessage", EDITOR, outcome=None)) > before, timeout=30)
        applied = tg.calls("sendMessage", EDITOR, outcome=None)[before].text
        history = str((await answer(tg, EDITOR, "/history"))["text"])
    assert_taken(tg, EDITOR)
    assert applied.startswith("✅ Applied") and "config.toml reloaded" in applied  # the reload line survives
    assert history.count("\n") >= 1 and "#1 " in history


def test_a_line_that_escaping_lengthens_five_times_is_cut_to_the_limit_not_to_nothing() -> None:
    """The one-line cut shrank its prefix by the overflow each round; when escaping made the text more than twice
    as long, the prefix went negative and the whole line came out as "…"."""
    (part,) = split_message("&amp;" * 2000, limit=1000)
    assert part == "&amp;" * 199 + "…"
    assert fit_html("<b>" + "&lt;" * 5000 + "</b>\nmore", limit=1000) == "&lt;" * 249 + "…"
    table = "<b>title</b>\n<pre>" + "\n".join(f"row {i} &amp;" for i in range(400)) + "</pre>\nend"
    cut = fit_html(table, limit=1000)
    assert html_problem(cut) is None and cut.endswith("</pre>\n…") and visible_length(cut, "HTML") <= 1000
