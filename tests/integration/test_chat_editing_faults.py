"""Chat editing as a careless user and a faulty server meet it (each case a break found by a probe)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.chat import Service, alert_buttons
from bot.store import chats, edits
from tests.support.editing import apply_of, say, shipped_service
from tests.support.factories import price_frame
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ALLOWED, EDITOR, build, running

RULE = "rut-spx-above-0.4"


@pytest.fixture
def svc(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    yield from shipped_service(tmp_path, tg.base_url)


async def test_a_rename_carries_the_chats_that_follow_and_silence_the_rule(svc: Service) -> None:
    await say(svc, ALLOWED, f"/subscribe {RULE}")
    await say(svc, EDITOR, f"/silence {RULE} 7d")
    reply = await apply_of(svc, await say(svc, EDITOR, f"/rename {RULE} small-caps-lead"))
    assert reply.text.startswith("✅ Applied")
    assert chats.route(svc.store, ALLOWED).rules == ("small-caps-lead",)
    now = dt.datetime.now(dt.UTC)
    assert [s.rule for s in chats.silences(svc.store, EDITOR, now)] == ["small-caps-lead"]


async def test_an_edit_the_store_cannot_record_is_still_in_force_and_says_so(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = await say(svc, EDITOR, f"/set {RULE} threshold 0.42")

    def readonly(*args: Any, **kwargs: Any) -> int:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(edits, "record_edit", readonly)
    reply = await apply_of(svc, preview)
    assert "was written" in reply.text and "is read-only" in reply.text and "/undo" in reply.text
    assert next(r for r in svc.config.rules if r.name == RULE).spec.threshold == 0.42  # reloaded all the same


async def test_a_config_that_cannot_be_written_is_one_line_and_nothing_written(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert svc.config_path is not None
    before = svc.config_path.read_bytes()
    preview = await say(svc, EDITOR, f"/set {RULE} threshold 0.42")

    def refused(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    reply = await apply_of(svc, preview)
    assert reply.text == "⚠️ cannot write config.toml (Permission denied): nothing was written"
    assert svc.config_path.read_bytes() == before


async def test_a_long_value_gives_a_preview_that_fits_one_message_with_whole_tags(svc: Service) -> None:
    reply = await say(svc, EDITOR, f"/set {RULE} message {'x & <y> ' * 700}")
    assert len(reply.text) <= 4096
    assert reply.text.count("<pre>") == reply.text.count("</pre>") and reply.text.count("<b>") == reply.text.count(
        "</b>"
    )
    assert not re.search(r"&[a-z]*$", reply.text.split("</pre>")[0])  # no entity cut in half before a tag closes


@pytest.mark.parametrize("value", ["9" * 5000, "{a = 1}", "[{a = 1}]"])
async def test_odd_values_are_located_errors_not_tracebacks(svc: Service, value: str) -> None:
    assert svc.config_path is not None
    before = svc.config_path.read_bytes()
    reply = await say(svc, EDITOR, f"/set {RULE} threshold {value}")
    assert reply.text.startswith(f'⚠️ config.toml: rule "{RULE}" field "threshold": expected a number')
    assert svc.config_path.read_bytes() == before


async def test_watch_reads_numbers_and_optional_parameters(svc: Service) -> None:
    svc.store.upsert_prices("SPY", price_frame(np.full(30, 500.0)))  # /watch takes stored symbols only
    change = await say(svc, EDITOR, "/watch change ^RUT 10 above 5")
    assert "+days = 10" in change.text and "+threshold = 5" in change.text
    sma = await say(svc, EDITOR, '/watch sma "SPY" below 500 window=50')
    assert "+symbol = &quot;SPY&quot;" in sma.text and "+window = 50" in sma.text


async def test_a_rule_name_with_a_bar_is_refused(svc: Service) -> None:
    reply = await say(svc, EDITOR, f"/rename {RULE} a|b")
    why = 'a rule name is letters, digits, ".", "_" and "-" (like rut-spx-above-0.4), got "a|b"'
    assert f'field "name": {why}' in reply.text
    assert not reply.buttons


async def test_a_press_telegram_will_not_answer_still_runs(tg: FakeTelegram, svc: Service) -> None:
    silence = alert_buttons(RULE)[0][2]
    tg.fail_next("answerCallbackQuery", "400")
    app = build(svc)
    async with running(app):
        tg.push_press(ALLOWED, silence.data)
        await tg.wait_until(lambda: bool(tg.calls("sendMessage", ALLOWED)), timeout=30)
    assert [s.rule for s in chats.silences(svc.store, ALLOWED, dt.datetime.now(dt.UTC))] == [RULE]


async def test_an_undo_refused_after_a_hand_edit_names_the_edit_as_history_does(svc: Service) -> None:
    """/undo after a hand edit said the edit set "threshold (not set) → 0.42" (it replaced 0.4) and told the chat
    to use `rules set`, a command of the command line."""
    assert svc.config_path is not None
    await apply_of(svc, await say(svc, EDITOR, f"/set {RULE} threshold 0.42"))
    svc.config_path.write_text(svc.config_path.read_text() + "\n# a hand edit\n")
    reply = await say(svc, EDITOR, "/undo")
    assert f'(rule "{RULE}": threshold 0.4 → 0.42, ' in reply.text and "(not set)" not in reply.text
    assert "/set" in reply.text and not reply.buttons
