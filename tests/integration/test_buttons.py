"""Buttons on alerts, through the real PTB Application against the fake Bot API: Chart and Track record under
every alert, answered at once and acted on; data that names no rule in force, or a stranger's press, does nothing."""

from __future__ import annotations

import datetime as dt
import json

from bot.chat import alert_buttons
from bot.chat.buttons import rule_ref
from bot.chat.service import Service
from bot.jobs.check import run_check
from bot.store import chats, outbox
from tests.support.fake_telegram import FakeTelegram
from tests.support.tg_helpers import ALLOWED, STRANGER, build, running

RULE = "rut-spx-above-0.4"


def keyboard_of(request_params: dict[str, object]) -> list[list[dict[str, str]]]:
    markup = request_params.get("reply_markup")
    assert markup, "no inline keyboard"
    loaded = json.loads(markup) if isinstance(markup, str) else markup
    assert isinstance(loaded, dict)
    rows = loaded["inline_keyboard"]
    assert isinstance(rows, list)
    return rows


async def test_every_alert_carries_chart_track_record_and_silence_buttons(tg: FakeTelegram, service: Service) -> None:
    chats.subscribe(service.store, ALLOWED)
    run_check(service.store, service.config, rules=service.config.rules[:1], sink=outbox.enqueue_alerts)
    app = build(service)
    async with running(app):
        await tg.wait_until(lambda: any("🔔" in r.text for r in tg.sent(ALLOWED)))
    alert = next(r for r in tg.sent(ALLOWED) if "🔔" in r.text)
    [row] = keyboard_of(alert.params)
    assert [b["text"] for b in row] == ["📈 Chart", "📊 Track record", "🔕 Silence 1 day"]
    assert [b["callback_data"] for b in row] == [b.data for b in alert_buttons(RULE)[0]]
    assert all(len(b["callback_data"].encode()) <= 64 for b in row)


async def test_pressing_chart_and_track_record_answers_at_once_and_posts_them(
    tg: FakeTelegram, service: Service
) -> None:
    chart, stats, _ = alert_buttons(RULE)[0]
    app = build(service)
    async with running(app):
        tg.push_press(ALLOWED, chart.data)
        await tg.wait_until(lambda: bool(tg.calls("sendPhoto", ALLOWED)), timeout=30)
        tg.push_press(ALLOWED, stats.data)
        await tg.wait_until(lambda: any(RULE in r.text for r in tg.calls("sendMessage", ALLOWED)), timeout=30)
    assert len(tg.calls("answerCallbackQuery")) == 2  # every press is answered: the client stops spinning
    photo = tg.calls("sendPhoto", ALLOWED)[0]
    assert photo.files["photo"].startswith(b"\x89PNG")
    assert any("Fired" in r.text or "Never fired" in r.text for r in tg.calls("sendMessage", ALLOWED))


async def test_a_button_of_a_rule_no_longer_configured_or_a_foreign_command_does_nothing(
    tg: FakeTelegram, service: Service
) -> None:
    app = build(service)
    async with running(app):
        tg.push_press(ALLOWED, f"chart:{rule_ref('gone-rule')}")
        tg.push_press(ALLOWED, "shutdown::now")
        await tg.wait_until(lambda: len(tg.calls("sendMessage", ALLOWED)) >= 2, timeout=30)
    texts = [r.text for r in tg.calls("sendMessage", ALLOWED)]
    assert texts == ["This button is out of date: its rule is no longer configured. Send /rules or /help."] * 2
    assert not tg.calls("sendPhoto", ALLOWED)


async def test_a_strangers_press_is_refused_like_a_command(tg: FakeTelegram, service: Service) -> None:
    chart = alert_buttons(RULE)[0][0]
    app = build(service)
    async with running(app):
        tg.push_press(STRANGER, chart.data)
        await tg.wait_until(lambda: bool(tg.sent(STRANGER)), timeout=30)
    assert "private" in tg.sent(STRANGER)[0].text
    assert not tg.calls("sendPhoto")


async def test_pressing_silence_1_day_silences_the_rule_in_this_chat(tg: FakeTelegram, service: Service) -> None:
    silence = alert_buttons(RULE)[0][2]
    app = build(service)
    async with running(app):
        tg.push_press(ALLOWED, silence.data)
        await tg.wait_until(lambda: bool(tg.calls("sendMessage", ALLOWED)), timeout=30)
    assert RULE in tg.calls("sendMessage", ALLOWED)[0].text
    [active] = chats.silences(service.store, ALLOWED, dt.datetime.now(dt.UTC))
    assert active.rule == RULE
