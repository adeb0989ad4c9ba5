"""The outbox: alerts are queued per chat in SQLite first, then delivered (see bot/telegram/delivery.py).

``text`` is plain text (an alert's rendered message); delivery escapes it for HTML. A row is
``pending`` until Telegram accepts it (``sent``), or ``dropped`` (the chat blocked the bot or
unsubscribed), ``failed`` (Telegram refused it for good, e.g. a 400) or ``unknown`` (two sends left
without Telegram's answer: it may have the message, so it is not sent again). ``attempts`` counts
every failed or successful send; ``unanswered`` those that left and got no answer (a late answer, a
dropped or reset connection), which delivery bounds at two.
Who gets a row (subscriptions, routes, silences, a group's new id) is bot/store/chats.py; this module is
the queue only.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from bot.store.chats import current_chat, routes, silenced, subscribers
from bot.store.db import Store, iso, utcnow
from rules import Alert

# The first field of the keys that are not an alert's ``rule|date|kind`` (a rule's name never starts with "@").
ADMIN = "@admin"  # ``@admin|…``: a notice for the admin chats
DIGEST = "@digest"  # ``@digest|date[|part]``: the day's digest, already HTML


def queue_text(store: Store, key: str, chat_id: int, text: str, not_before: dt.datetime | None = None) -> int:
    """Queue one message for one chat; a second call with the same (key, chat) does nothing.

    Keys are ``rule|date|kind`` for alerts, ``@digest|date[|part]`` for the digest (already HTML) and
    ``@admin|…`` for notices to admins. ``not_before`` holds the row (and the chat's later rows) until then.
    A group that became a supergroup gets the row at its new id (the config and rules still name the old).
    """
    chat_id = current_chat(store, chat_id)
    now = utcnow()
    cur = store.db.execute(
        "INSERT OR IGNORE INTO outbox (alert_key, chat_id, text, status, attempts, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, 'pending', 0, ?, ?)",
        [key, chat_id, text, iso(not_before) if not_before else now, now],
    )
    return cur.rowcount


def queue_digest(
    store: Store,
    day: dt.date,
    parts: Sequence[str],
    not_before: dt.datetime | None = None,
    chats: Collection[int] | None = None,
) -> int:
    """Queue the day's digest (HTML, already split to fit a message) for ``chats`` (default: every subscriber).

    Once per day and chat: chats with different routes get different digests, each queued for its own chats.
    Part 1 keeps the key ``@digest|DAY``; part n > 1 is ``@digest|DAY|n``, queued after it, so ids keep the order.
    """
    keys = [f"{DIGEST}|{day.isoformat()}" + (f"|{n}" if n > 1 else "") for n in range(1, len(parts) + 1)]
    with store.db.atomic():
        return sum(
            queue_text(store, key, chat, part, not_before)
            for chat in (subscribers(store) if chats is None else sorted(chats))
            for key, part in zip(keys, parts, strict=True)
        )


def attach_photos(store: Store, photos: Mapping[str, bytes]) -> None:
    """Give the queued rows of these alerts their chart (sent as a photo with the alert as caption)."""
    for key, png in photos.items():
        store.db.execute("UPDATE outbox SET photo = ? WHERE alert_key = ? AND status = 'pending'", [png, key])


def enqueue_alerts(store: Store, alerts: Sequence[Alert], now: dt.datetime | None = None) -> int:
    """Queue each alert for every subscribed chat whose route it matches (or the rule's own ``chats``, which
    routes do not narrow), except chats that silenced its rule at ``now``; idempotent per (alert, chat).

    A silenced alert is never queued for that chat, so it does not arrive when the silence ends.
    """
    subs = subscribers(store)
    narrowed = routes(store)
    quiet = silenced(store, now or dt.datetime.now(dt.UTC))
    queued = 0
    for a in alerts:
        if a.chats is not None:
            chats = list(a.chats)
        else:
            chats = [c for c in subs if c not in narrowed or narrowed[c].matches(a.rule, a.severity)]
        for chat in chats:
            if (current_chat(store, chat), a.rule) not in quiet:
                queued += queue_text(store, a.key, chat, a.message)
    return queued


# --- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    alert_key: str | None
    chat_id: int
    text: str
    photo: bytes | None
    attempts: int
    next_attempt_at: str | None
    unanswered: int = 0  # sends that left without Telegram's answer: it may have the message


def pending_rows(
    store: Store, only_chats: Collection[int] | None = None, skip_chats: Collection[int] = ()
) -> list[OutboxRow]:
    """Every pending row, per chat oldest first (delivery keeps that order within a chat)."""
    rows = store.db.execute(
        "SELECT id, alert_key, chat_id, text, photo, attempts, next_attempt_at, unanswered FROM outbox"
        " WHERE status = 'pending' ORDER BY chat_id, id"
    ).fetchall()
    out = [OutboxRow(int(r[0]), r[1], int(r[2]), r[3] or "", r[4], int(r[5] or 0), r[6], int(r[7])) for r in rows]
    return [r for r in out if (only_chats is None or r.chat_id in only_chats) and r.chat_id not in set(skip_chats)]


def _busy(exc: BaseException) -> bool:
    """A store another connection holds ("database is locked") frees up; a read-only or full one does not."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


@retry(
    retry=retry_if_exception(_busy),  # past busy_timeout; other errors go to delivery, which holds the row in memory
    stop=stop_after_attempt(5),
    wait=wait_exponential(multiplier=0.2, max=2),
    reraise=True,
)
def mark_sent(store: Store, row_id: int) -> None:
    """Record Telegram's acceptance; retried while the store is busy, because a row left pending is sent again."""
    store.db.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        [utcnow(), row_id],
    )


def mark_retry(store: Store, row_id: int, error: str, next_attempt_at: dt.datetime) -> None:
    store.db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
        [error[:500], iso(next_attempt_at), row_id],
    )


def mark_unanswered(store: Store, row_id: int, error: str) -> None:
    """A send left and got no answer: on record before the one more send goes, so a restart cannot add a third."""
    store.db.execute(
        "UPDATE outbox SET attempts = attempts + 1, unanswered = unanswered + 1, last_error = ? WHERE id = ?",
        [error[:500], row_id],
    )


def mark_failed(store: Store, row_id: int, error: str, status: str = "failed", unanswered: bool = False) -> None:
    """End a row that must not be sent again: ``failed`` (refused for good) or ``unknown`` (may have arrived);
    ``unanswered``: the send that ended it left without an answer (counted like ``mark_unanswered``)."""
    store.db.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, unanswered = unanswered + ?, last_error = ?"
        " WHERE id = ?",
        [status, int(unanswered), error[:500], row_id],
    )


def counts(store: Store) -> dict[str, int]:
    """Rows per status (for /status and ``rotation-bot status``)."""
    rows = store.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def oldest_pending(store: Store) -> str | None:
    """When the oldest undelivered row was queued (a stuck outbox shows here)."""
    row = store.db.execute("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0] if row else None
