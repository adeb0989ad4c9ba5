"""The history of config.toml edits, as SQL: each recorded edit, and the intents written ahead of an edit.

config.toml stays the single source of truth; this table only remembers each edit's diff, who made it
(a chat id, or NULL for the command line), the sha256 of the file before and after, and the edit that
undoes it (both as JSON texts: the store does not read them). An undo is an edit too, recorded with
``undoes`` pointing at the edit it reverted.

An intent is a row with ``pending`` set, written before the new file is renamed into place and completed
after (``bot.edits`` owns that flow and the file); every reader here sees completed edits only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.errors import BotError
from bot.store.db import Store, utcnow

COLUMNS = "id, at, chat_id, rule, edit, inverse, diff, base_digest, new_digest, undoes"
DONE = "pending IS NULL"  # every reader sees recorded edits only, never an intent


@dataclass(frozen=True)
class EditRecord:
    """One recorded edit; ``edit_json``/``inverse_json`` are ``Edit.to_json()`` texts (read above, in ``bot.edits``)."""

    id: int
    at: str
    chat_id: int | None
    rule: str
    edit_json: str
    inverse_json: str | None
    diff: str
    base_digest: str
    new_digest: str
    undoes: int | None

    @property
    def who(self) -> str:
        return "command line" if self.chat_id is None else f"chat {self.chat_id}"


@dataclass(frozen=True)
class Intent:
    """An edit recorded ahead of its write: in force when the file has ``new_digest``."""

    id: int
    base_digest: str
    new_digest: str


def record_edit(
    store: Store,
    chat_id: int | None,
    edit_json: str,
    diff: str,
    base_digest: str,
    new_digest: str,
    *,
    inverse_json: str | None = None,
    undoes: int | None = None,
    pending: bool = False,
) -> int:
    """Remember an applied edit (with ``pending``, one about to be applied); returns its id."""
    data = json.loads(edit_json)
    cur = store.db.execute(
        "INSERT INTO config_edits (at, chat_id, rule, new_name, kind, edit, inverse, diff, base_digest, new_digest,"
        " undoes, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            utcnow(),
            chat_id,
            data.get("rule", ""),
            data.get("new_name"),
            data.get("kind", ""),
            edit_json,
            inverse_json,
            diff,
            base_digest,
            new_digest,
            undoes,
            1 if pending else None,
        ],
    )
    return int(cur.lastrowid or 0)


def edits(store: Store, rule: str | None = None, limit: int = 20) -> list[EditRecord]:
    """The newest ``limit`` edits, newest first; with ``rule``, those of that rule (under either name of a rename)."""
    where, args = (f"WHERE {DONE} AND (rule = ? OR new_name = ?)", [rule, rule]) if rule else (f"WHERE {DONE}", [])
    rows = store.db.execute(f"SELECT {COLUMNS} FROM config_edits {where} ORDER BY id DESC LIMIT ?", [*args, limit])
    return [EditRecord(*row) for row in rows.fetchall()]


def last_edit(store: Store) -> EditRecord | None:
    """The edit an undo reverts next: the newest one that is neither an undo nor undone."""
    row = store.db.execute(
        f"SELECT {COLUMNS} FROM config_edits WHERE {DONE} AND undoes IS NULL"
        f" AND id NOT IN (SELECT undoes FROM config_edits WHERE {DONE} AND undoes IS NOT NULL) ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return EditRecord(*row) if row else None


def edits_by_id(store: Store, edit_id: int) -> EditRecord:
    row = store.db.execute(f"SELECT {COLUMNS} FROM config_edits WHERE id = ? AND {DONE}", [edit_id]).fetchone()
    if row is None:
        raise BotError(f"no config edit #{edit_id}")
    return EditRecord(*row)


def intents(store: Store) -> list[Intent]:
    """The edits written ahead and not completed yet, oldest first."""
    rows = store.db.execute(f"SELECT id, base_digest, new_digest FROM config_edits WHERE NOT {DONE} ORDER BY id")
    return [Intent(*row) for row in rows.fetchall()]


def complete(store: Store, intent: int) -> int | None:
    """Turn an intent into a recorded edit, carrying a rename's rows to the new name (once: another process may
    have done it); the id, or None when the intent is gone. Call inside a transaction."""
    if store.db.execute(f"UPDATE config_edits SET pending = NULL WHERE id = ? AND NOT {DONE}", [intent]).rowcount:
        kind, rule, new_name = store.db.execute(
            "SELECT kind, rule, new_name FROM config_edits WHERE id = ?", [intent]
        ).fetchone()
        carry(store, kind, rule, new_name)
        return intent
    return intent if store.db.execute("SELECT 1 FROM config_edits WHERE id = ?", [intent]).fetchone() else None


def drop(store: Store, intent: int) -> None:
    """Forget an intent whose edit never landed (the file does not have its new hash)."""
    store.db.execute(f"DELETE FROM config_edits WHERE id = ? AND NOT {DONE}", [intent])


def carry(store: Store, kind: str, rule: str, new_name: str | None) -> None:
    """A renamed rule keeps what the store holds under its name: state, the chats that follow or silence it."""
    if kind == "rename" and new_name:
        store.rename_rule(rule, new_name)
