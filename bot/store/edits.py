"""The history of config.toml edits (chat commands, ``rules set``), and the undo of the last one.

config.toml stays the single source of truth; this table only remembers each edit's diff, who made it
(a chat id, or NULL for the command line), the sha256 of the file before and after, and the edit that
undoes it. An undo is an edit too, recorded with ``undoes`` pointing at the edit it reverted; undoing
again walks further back. Undo refuses when the file is no longer what the edit left (changed by hand
since), so it never overwrites a change it does not know.

The record is written ahead: a ``pending`` row (with the file's hash before and after) is committed before
the new file is renamed into place, and completed after. A crash in between leaves the intent, and
``settle`` (at the next start, edit, undo or history) completes it when the file has the new hash, or
drops it when it has the old one; without it, history would lack an edit that is in force and undo would
be refused for good.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import bot.config
from bot.config import Preview
from bot.config.files import digest, read_config_text
from bot.errors import BotError
from bot.store.db import Store, utcnow
from bot.store.faults import FAULTS, store_fault

log = logging.getLogger(__name__)

COLUMNS = "id, at, chat_id, rule, edit, inverse, diff, base_digest, new_digest, undoes"
DONE = "pending IS NULL"  # every reader sees recorded edits only, never an intent


@dataclass(frozen=True)
class EditRecord:
    """One recorded edit; ``edit_json``/``inverse_json`` are ``bot.config.Edit.to_json()`` texts."""

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

    @property
    def edit(self) -> bot.config.Edit:
        return bot.config.Edit.from_json(self.edit_json)

    @property
    def summary(self) -> str:
        """What the edit did, in one line (a set names the value it replaced, which its inverse holds)."""
        edit = self.edit
        inverse = bot.config.Edit.from_json(self.inverse_json) if self.inverse_json else None
        old = inverse.raw if inverse is not None and inverse.kind == "set" and edit.kind in ("set", "unset") else None
        return edit.describe(old, inverse) + (f" (undoes #{self.undoes})" if self.undoes else "")


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


def save_edit(store: Store, path: Path, preview: Preview, chat_id: int | None, undoes: int | None = None) -> EditRecord:
    """Apply a previewed edit to the file (``bot.config.apply``: EditConflict when it changed) and record it.

    The record is written ahead as an intent, so a crash after the rename is completed by ``settle``. A rename
    carries what the store keeps under the rule's name (its state, the chats that follow or silence it) to the
    new name, in the same transaction as the completed record. If the store cannot record it (read-only, full),
    the file is written all the same: EditNotRecorded says so, so the caller still reloads the rules.
    """
    settle(store, path)
    edit = preview.edit

    def write(pending: bool) -> int:
        return record_edit(
            store,
            chat_id,
            edit.to_json(),
            preview.diff,
            preview.base_digest,
            preview.new_digest,
            inverse_json=preview.inverse.to_json(),
            undoes=undoes,
            pending=pending,
        )

    intent: int | None = None
    try:
        intent = write(pending=True)
    except FAULTS as exc:
        log.warning("cannot record the intent of an edit of %s: %s", path, exc)
    try:
        bot.config.apply(path, preview)
    except BaseException:
        if intent is not None:  # nothing written (a conflict, an unwritable folder): the file's hash says so
            settle(store, path)
        raise
    try:
        with store.transaction():
            done = _complete(store, intent, edit) if intent is not None else None
            if done is None:  # no intent, or another process dropped it while the file still had the old hash
                done = write(pending=False)
                _carry(store, edit)
    except FAULTS as exc:
        later = "will know it once the store is writable (the next start or edit)" if intent else "will not know it"
        raise EditNotRecorded(
            f"{path.name} was written ({preview.summary}), but {store_fault(store.path, exc)}; /history and /undo "
            f"{later}"
        ) from None
    return edits_by_id(store, done)


def _carry(store: Store, edit: bot.config.Edit) -> None:
    if edit.kind == "rename" and edit.new_name:
        store.rename_rule(edit.rule, edit.new_name)


def _complete(store: Store, intent: int, edit: bot.config.Edit) -> int | None:
    """Turn an intent into a recorded edit (once: settle in another process may have done it); None when gone."""
    done = store.db.execute(f"UPDATE config_edits SET pending = NULL WHERE id = ? AND NOT {DONE}", [intent]).rowcount
    if done:
        _carry(store, edit)
        return intent
    return intent if store.db.execute("SELECT 1 FROM config_edits WHERE id = ?", [intent]).fetchone() else None


def settle(store: Store, path: Path) -> None:
    """Complete or drop the intents a crash left: the edit is in force when the file has its new hash.

    A file with neither hash was changed since by hand: whether the edit ever landed is unknown, so the intent
    is dropped (undo then refuses, as after any hand edit). A store that cannot be written keeps its intents
    for the next time; reading the history still works.
    """
    try:
        rows = store.db.execute(
            f"SELECT id, edit, base_digest, new_digest FROM config_edits WHERE NOT {DONE} ORDER BY id"
        ).fetchall()
        if not rows:
            return
        try:
            now = digest(path.read_bytes())
        except OSError:
            return  # the file cannot be read: nothing can be told
        with store.transaction():
            for intent, edit_json, base, new in rows:
                if now == new:
                    _complete(store, intent, bot.config.Edit.from_json(edit_json))
                    log.warning("recorded edit #%s of %s, which a crash left unrecorded", intent, path)
                else:
                    store.db.execute(f"DELETE FROM config_edits WHERE id = ? AND NOT {DONE}", [intent])
                    if now != base:
                        log.warning("dropped the intent of edit #%s: %s changed since by hand", intent, path)
    except FAULTS as exc:
        log.warning("cannot settle the unrecorded edits of %s: %s", path, exc)


class EditNotRecorded(BotError):
    """The config file was written but the store could not remember the edit."""


def edits_by_id(store: Store, edit_id: int) -> EditRecord:
    row = store.db.execute(f"SELECT {COLUMNS} FROM config_edits WHERE id = ? AND {DONE}", [edit_id]).fetchone()
    if row is None:
        raise BotError(f"no config edit #{edit_id}")
    return EditRecord(*row)


@dataclass(frozen=True)
class Undo:
    """The edit to undo and the preview of its inverse; apply with ``save_edit(…, undoes=record.id)``."""

    record: EditRecord
    preview: Preview


def preview_undo(store: Store, path: Path) -> Undo:
    """Preview the inverse of the last edit still in effect, if the file is still what that edit left."""
    settle(store, path)
    record = last_edit(store)
    if record is None or record.inverse_json is None:
        raise BotError("no edit to undo")
    data, _ = read_config_text(path)
    if digest(data) != record.new_digest:
        raise BotError(
            f"{path.name} changed since edit #{record.id} ({record.edit.describe()}, {record.at}): undoing it "
            "would overwrite that change; nothing was written. Change it back with `rules set` instead"
        )
    return Undo(record, bot.config.preview(path, bot.config.Edit.from_json(record.inverse_json)))
