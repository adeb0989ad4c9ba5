"""Everything the store knows about a chat: its subscription, mute, route and silences, and the group it was.

These decide who gets an outbox row and when (``outbox.enqueue_alerts`` asks them), so they live in one
module, not split between the queue and routing. A *subscription* makes a chat receive alerts; a *mute*
holds its rows back until a time (they arrive afterwards); a *route* narrows it to some rules and/or a
severity floor (no route: every rule; Alertmanager's routes); a *silence* stops one rule's alerts to it
until it expires: the alert is still recorded, but no row is queued, so nothing arrives later. A group
upgraded to a supergroup takes all of these, and its queued rows, to its new id (``migrate_chat``).
Times are stored as the outbox writes them (UTC ISO, seconds), so string order is time order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.store.db import Store, iso, utcnow
from bot.store.faults import read_back
from rules import Rule

SEVERITIES = ("info", "warning", "critical")  # lowest first: a floor admits itself and everything after it


@dataclass(frozen=True)
class Route:
    """What a subscribed chat receives: an alert passes when it matches ``rules`` (if set) AND ``min_severity``."""

    rules: tuple[str, ...] | None = None
    min_severity: str | None = None

    @property
    def everything(self) -> bool:
        return self.rules is None and self.min_severity is None

    def matches(self, rule: str, severity: str) -> bool:
        if self.rules is not None and rule not in self.rules:
            return False
        if self.min_severity is None:
            return True
        rank = SEVERITIES.index(severity) if severity in SEVERITIES else 0
        return rank >= SEVERITIES.index(self.min_severity)

    def shown(self, rules: Sequence[Rule]) -> tuple[str, ...] | None:
        """The names of ``rules`` whose alerts reach the chat, in config order; None when that is every rule."""
        if self.everything:
            return None
        return tuple(r.name for r in rules if self.matches(r.name, r.spec.severity))


@dataclass(frozen=True)
class Silence:
    chat_id: int
    rule: str
    until: dt.datetime
    reason: str


# --- subscriptions -------------------------------------------------------------------------------


def subscribers(store: Store) -> list[int]:
    return [int(r[0]) for r in store.db.execute("SELECT chat_id FROM subscriptions ORDER BY chat_id").fetchall()]


def subscribe(store: Store, chat_id: int, route: Route | None = None) -> bool:
    """Subscribe a chat; False when it already was. ``route`` (``Route()``: every rule) also sets what it
    receives, in the same transaction; without one a second /subscribe changes nothing."""
    with store.db.atomic():
        cur = store.db.execute(
            "INSERT OR IGNORE INTO subscriptions (chat_id, subscribed_at, muted_until) VALUES (?, ?, NULL)",
            [chat_id, utcnow()],
        )
        if route is not None:
            set_route(store, chat_id, route)
    return bool(cur.rowcount)


def unsubscribe(store: Store, chat_id: int, reason: str = "unsubscribed") -> bool:
    """Remove a chat (and its route) and drop its queued rows (it asked to stop, or it blocked the bot).

    Its silences stay until they expire: a rule's own ``chats`` may still send there.
    """
    with store.db.atomic():
        cur = store.db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
        set_route(store, chat_id, Route())  # a later /subscribe starts from every rule
        store.db.execute(
            "UPDATE outbox SET status = 'dropped', last_error = ? WHERE chat_id = ? AND status = 'pending'",
            [reason, chat_id],
        )
    return bool(cur.rowcount)


def drop_chats_not_allowed(store: Store, allowed: Collection[int]) -> list[int]:
    """Unsubscribe chats (and drop their queued rows) that the config no longer allows.

    A chat removed from ``allowed_chats`` by an edit + /reload would otherwise keep receiving
    alerts and could not even /unsubscribe (the chat guard refuses it). Rules' own ``chats`` are
    validated against the same lists when the config loads. A supergroup is allowed while the
    config allows the group it was upgraded from (the admins were told to update the config).
    """
    queued = {int(r[0]) for r in store.db.execute("SELECT DISTINCT chat_id FROM outbox WHERE status = 'pending'")}
    chats = (set(subscribers(store)) | queued) - {current_chat(store, c) for c in allowed} - set(allowed)
    for chat in sorted(chats):
        unsubscribe(store, chat, reason="chat no longer allowed by the config")
    return sorted(chats)


# --- mutes ---------------------------------------------------------------------------------------


def mute(store: Store, chat_id: int, until: dt.datetime) -> bool:
    """Hold a subscribed chat's alerts until ``until``; False when the chat is not subscribed."""
    cur = store.db.execute("UPDATE subscriptions SET muted_until = ? WHERE chat_id = ?", [iso(until), chat_id])
    return bool(cur.rowcount)


def unmute(store: Store, chat_id: int) -> bool:
    cur = store.db.execute(
        "UPDATE subscriptions SET muted_until = NULL WHERE chat_id = ? AND muted_until IS NOT NULL", [chat_id]
    )
    return bool(cur.rowcount)


def muted_chats(store: Store, now: dt.datetime) -> set[int]:
    rows = store.db.execute("SELECT chat_id FROM subscriptions WHERE muted_until > ?", [iso(now)]).fetchall()
    return {int(r[0]) for r in rows}


def muted_until(store: Store, chat_id: int, now: dt.datetime) -> dt.datetime | None:
    """When a subscribed chat's mute ends; None when it is not muted (for /subscriptions)."""
    row = store.db.execute(
        "SELECT muted_until FROM subscriptions WHERE chat_id = ? AND muted_until > ?", [chat_id, iso(now)]
    ).fetchone()
    return read_back(dt.datetime.fromisoformat, row[0]) if row else None


# --- routes --------------------------------------------------------------------------------------


def set_route(store: Store, chat_id: int, route: Route) -> None:
    """Narrow (or, with ``Route()``, widen back to every rule) what a chat receives."""
    if route.everything:
        store.db.execute("DELETE FROM chat_routes WHERE chat_id = ?", [chat_id])
        return
    names = json.dumps(list(route.rules)) if route.rules is not None else None
    store.db.execute(
        "INSERT OR REPLACE INTO chat_routes (chat_id, rules, min_severity, updated_at) VALUES (?, ?, ?, ?)",
        [chat_id, names, route.min_severity, utcnow()],
    )


def _route(rules: str | None, min_severity: str | None) -> Route:
    return Route(tuple(json.loads(rules)) if rules is not None else None, min_severity)


def route(store: Store, chat_id: int) -> Route:
    row = store.db.execute("SELECT rules, min_severity FROM chat_routes WHERE chat_id = ?", [chat_id]).fetchone()
    return _route(row[0], row[1]) if row else Route()


def routes(store: Store) -> dict[int, Route]:
    """Every narrowed chat's route (a chat absent here receives every rule)."""
    rows = store.db.execute("SELECT chat_id, rules, min_severity FROM chat_routes").fetchall()
    return {int(r[0]): _route(r[1], r[2]) for r in rows}


# --- silences ------------------------------------------------------------------------------------


def silence(store: Store, chat_id: int, rule: str, until: dt.datetime, reason: str = "") -> None:
    """Silence ``rule`` in ``chat_id`` until ``until`` (a second silence of the same rule replaces the first).

    Expired silences are deleted here, lazily: reading never writes, so a read-only store still answers.
    """
    with store.db.atomic():
        store.db.execute("DELETE FROM silences WHERE until <= ?", [utcnow()])
        store.db.execute(
            "INSERT OR REPLACE INTO silences (chat_id, rule, until, reason, created_at) VALUES (?, ?, ?, ?, ?)",
            [chat_id, rule, iso(until), reason, utcnow()],
        )


def unsilence(store: Store, chat_id: int, rule: str, now: dt.datetime) -> bool:
    """End a silence early; False when the chat had no active silence of that rule."""
    cur = store.db.execute(
        "DELETE FROM silences WHERE chat_id = ? AND rule = ? AND until > ?", [chat_id, rule, iso(now)]
    )
    return bool(cur.rowcount)


def silences(store: Store, chat_id: int, now: dt.datetime) -> list[Silence]:
    """A chat's active silences, the first to expire first."""
    rows = store.db.execute(
        "SELECT rule, until, reason FROM silences WHERE chat_id = ? AND until > ? ORDER BY until, rule",
        [chat_id, iso(now)],
    ).fetchall()
    return [Silence(chat_id, str(r[0]), read_back(dt.datetime.fromisoformat, r[1]), r[2] or "") for r in rows]


def silenced(store: Store, now: dt.datetime) -> set[tuple[int, str]]:
    """(chat, rule) pairs silenced at ``now``: their alerts are not queued."""
    rows = store.db.execute("SELECT chat_id, rule FROM silences WHERE until > ?", [iso(now)]).fetchall()
    return {(int(r[0]), str(r[1])) for r in rows}


# --- groups upgraded to supergroups ---------------------------------------------------------------


def current_chat(store: Store, chat_id: int) -> int:
    """The id a chat has now: a group upgraded to a supergroup answers to its new id only."""
    for _ in range(3):  # Telegram upgrades a group once; the bound only guards against a cycle
        row = store.db.execute("SELECT new_chat_id FROM chat_migrations WHERE old_chat_id = ?", [chat_id]).fetchone()
        if row is None:
            break
        chat_id = int(row[0])
    return chat_id


def upgraded_from(store: Store, chat_id: int) -> list[int]:
    """The group ids Telegram upgraded to ``chat_id`` (the reverse of ``current_chat``)."""
    rows = store.db.execute("SELECT old_chat_id FROM chat_migrations WHERE new_chat_id = ?", [chat_id]).fetchall()
    return [int(r[0]) for r in rows]


def migrate_chat(store: Store, old: int, new: int) -> int:
    """Move a group's subscription (with its mute, route and silences) and queued rows to its supergroup id.

    Returns the rows moved. Remembered in ``chat_migrations``, so later rows for the old id (a rule's own
    ``chats``) go to the new one and the config's allowed-chat check keeps it.
    """
    with store.db.atomic():
        store.db.execute(
            "INSERT OR REPLACE INTO chat_migrations (old_chat_id, new_chat_id, migrated_at) VALUES (?, ?, ?)",
            [old, new, utcnow()],
        )
        store.db.execute(
            "INSERT OR IGNORE INTO subscriptions (chat_id, subscribed_at, muted_until)"
            " SELECT ?, subscribed_at, muted_until FROM subscriptions WHERE chat_id = ?",
            [new, old],
        )
        store.db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [old])
        store.db.execute("UPDATE OR IGNORE chat_routes SET chat_id = ? WHERE chat_id = ?", [new, old])
        store.db.execute("DELETE FROM chat_routes WHERE chat_id = ?", [old])
        store.db.execute("UPDATE OR IGNORE silences SET chat_id = ? WHERE chat_id = ?", [new, old])
        store.db.execute("DELETE FROM silences WHERE chat_id = ?", [old])
        moved = store.db.execute(
            "UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'", [new, old]
        ).rowcount
        store.db.execute(  # the same message was already queued for the new id
            "UPDATE outbox SET status = 'dropped', last_error = ? WHERE chat_id = ? AND status = 'pending'",
            [f"group moved to {new}, where this message is queued already", old],
        )
    return int(moved)
