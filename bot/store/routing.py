"""Per-chat routing and silences: which alerts a chat gets queued at all (Alertmanager's routes and silences).

A *route* narrows a subscribed chat to some rules and/or a severity floor; no route means every rule.
A *silence* stops one rule's alerts to one chat until it expires: the alert is still recorded, but no
row is queued for that chat, so nothing arrives later (a mute only holds rows back). Both live in the
store so they survive restarts; the outbox consults them when it queues an alert (``outbox.enqueue_alerts``).
Times are stored as the outbox writes them (UTC ISO, seconds), so string order is time order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.db import Store, iso, utcnow
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
    return [Silence(chat_id, str(r[0]), dt.datetime.fromisoformat(r[1]), r[2] or "") for r in rows]


def silenced(store: Store, now: dt.datetime) -> set[tuple[int, str]]:
    """(chat, rule) pairs silenced at ``now``: their alerts are not queued."""
    rows = store.db.execute("SELECT chat_id, rule FROM silences WHERE until > ?", [iso(now)]).fetchall()
    return {(int(r[0]), str(r[1])) for r in rows}


# --- the rest of a chat's settings ---------------------------------------------------------------


def muted_until(store: Store, chat_id: int, now: dt.datetime) -> dt.datetime | None:
    """When a subscribed chat's mute ends; None when it is not muted (for /subscriptions)."""
    row = store.db.execute(
        "SELECT muted_until FROM subscriptions WHERE chat_id = ? AND muted_until > ?", [chat_id, iso(now)]
    ).fetchone()
    return dt.datetime.fromisoformat(row[0]) if row else None


def move_chat(store: Store, old: int, new: int) -> None:
    """A group upgraded to a supergroup keeps its route and silences (called inside ``outbox.migrate_chat``)."""
    store.db.execute("UPDATE OR IGNORE chat_routes SET chat_id = ? WHERE chat_id = ?", [new, old])
    store.db.execute("DELETE FROM chat_routes WHERE chat_id = ?", [old])
    store.db.execute("UPDATE OR IGNORE silences SET chat_id = ? WHERE chat_id = ?", [new, old])
    store.db.execute("DELETE FROM silences WHERE chat_id = ?", [old])
