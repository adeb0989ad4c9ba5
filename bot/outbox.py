"""The outbox: alerts are queued per chat in SQLite first, then delivered (see bot/delivery)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store import Store, utcnow
from rules import Alert


def subscribers(store: Store) -> list[int]:
    return [int(r[0]) for r in store.db.execute("SELECT chat_id FROM subscriptions ORDER BY chat_id").fetchall()]


def enqueue_alerts(store: Store, alerts: Sequence[Alert]) -> int:
    """Queue each alert for every subscribed chat (or the rule's own ``chats``); idempotent per (alert, chat)."""
    subs = subscribers(store)
    now = utcnow()
    queued = 0
    for a in alerts:
        chats = list(a.chats) if a.chats is not None else subs
        for chat in chats:
            cur = store.db.execute(
                "INSERT OR IGNORE INTO outbox (alert_key, chat_id, text, status, attempts, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, 'pending', 0, ?, ?)",
                [a.key, chat, a.message, now, now],
            )
            queued += cur.rowcount
    return queued
