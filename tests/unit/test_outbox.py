"""The outbox without a server: delivery backoff, the alert HTML cut to Telegram's limits, chats
removed from the config, and marking a row sent under a locked database."""

from __future__ import annotations

import html as html_lib
import sqlite3

import pytest

from bot.answers.render import CAPTION_LIMIT, MESSAGE_LIMIT, alert_html
from bot.store import chats, outbox
from bot.store.db import Store
from bot.store.outbox import OutboxRow
from bot.telegram.delivery import backoff_seconds


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 2.0), (2, 4.0), (5, 32.0), (30, 600.0)])
def test_backoff(attempts: int, seconds: float) -> None:
    assert backoff_seconds(attempts) == seconds


def test_long_alerts_are_cut_in_the_plain_text_not_in_the_html() -> None:
    row = OutboxRow(1, "rule|2024-07-17|firing", 5, "a<b & c " * 2000, None, 0, None)
    for limit in (MESSAGE_LIMIT, CAPTION_LIMIT):
        text = alert_html(row, limit)
        visible = html_lib.unescape(text.replace("<b>", "").replace("</b>", ""))
        assert len(visible) <= limit and visible.endswith("…")
        assert text.startswith("🔔 <b>rule</b>\n") and "&lt;b &amp; c" in text
        assert not text.rstrip("…").endswith("&")  # no entity cut in half
    short = OutboxRow(2, "rule|2024-07-17|firing", 5, "fine", None, 0, None)
    assert alert_html(short) == "🔔 <b>rule</b>\nfine"


def test_chats_removed_from_the_config_are_unsubscribed_and_their_rows_dropped(store: Store) -> None:
    for chat in (1, 2, 3):
        chats.subscribe(store, chat)
        outbox.queue_text(store, "r|2024-07-17|firing", chat, "alert")
    outbox.queue_text(store, "r|2024-07-18|firing", 9, "rule-specific chat, later removed")
    assert chats.drop_chats_not_allowed(store, {1, 3}) == [2, 9]
    assert chats.subscribers(store) == [1, 3]
    assert [r.chat_id for r in outbox.pending_rows(store)] == [1, 3]
    assert chats.drop_chats_not_allowed(store, {1, 3}) == []


def test_marking_a_row_sent_survives_a_locked_database(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row Telegram accepted but not marked sent would go out again: the mark is retried."""
    outbox.queue_text(store, "r|2024-07-17|firing", 1, "alert")
    row = outbox.pending_rows(store)[0]
    real = store.db
    failures = iter([True, True, False])

    class Locked:
        def execute(self, sql: str, params: object = ()) -> object:
            if sql.startswith("UPDATE outbox SET status = 'sent'") and next(failures):
                raise sqlite3.OperationalError("database is locked")
            return real.execute(sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "db", Locked())
    outbox.mark_sent(store, row.id)
    monkeypatch.setattr(store, "db", real)
    assert outbox.counts(store) == {"sent": 1}
