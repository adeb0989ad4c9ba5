"""Write an edit to config.toml and record it, undo the last one, and settle what a crash left.

The file and its history are kept in step here, above both: ``bot.config`` writes the file, ``bot.store.edits``
holds the rows. The record is written ahead: a ``pending`` row (with the file's hash before and after) is
committed before the new file is renamed into place, and completed after. A crash in between leaves the
intent, and ``settle`` (at the next start, reload, check, edit, undo or history) completes it when the file has the new
hash, or drops it when it has the old one; without it, history would lack an edit that is in force and undo
would be refused for good. Undo refuses when the file is no longer what the edit left (changed by hand
since), so it never overwrites a change it does not know.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import bot.config
from bot.answers import edit_summary
from bot.config import Edit, Preview
from bot.config.files import digest, read_config_text
from bot.errors import BotError
from bot.store import FAULTS, Store, store_fault
from bot.store import edits as rows
from bot.store.edits import EditRecord

log = logging.getLogger(__name__)


class EditNotRecorded(BotError):
    """The config file was written but the store could not remember the edit."""


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
        return rows.record_edit(
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
            done = rows.complete(store, intent) if intent is not None else None
            if done is None:  # no intent, or another process dropped it while the file still had the old hash
                done = write(pending=False)
                rows.carry(store, edit.kind, edit.rule, edit.new_name)
    except FAULTS as exc:
        later = "will know it once the store is writable (the next start or edit)" if intent else "will not know it"
        raise EditNotRecorded(
            f"{path.name} was written ({preview.summary}), but {store_fault(store.path, exc)}; /history and /undo "
            f"{later}"
        ) from None
    return rows.edits_by_id(store, done)


def settle(store: Store, path: Path) -> None:
    """Complete or drop the intents a crash left: the edit is in force when the file has its new hash.

    A file with neither hash was changed since by hand: whether the edit ever landed is unknown, so the intent
    is dropped (undo then refuses, as after any hand edit). A store that cannot be written keeps its intents
    for the next time; reading the history still works.
    """
    try:
        pending = rows.intents(store)
        if not pending:
            return
        try:
            now = digest(path.read_bytes())
        except OSError:
            return  # the file cannot be read: nothing can be told
        with store.transaction():
            for intent in pending:
                if now == intent.new_digest:
                    rows.complete(store, intent.id)
                    log.warning("recorded edit #%s of %s, which a crash left unrecorded", intent.id, path)
                else:
                    rows.drop(store, intent.id)
                    if now != intent.base_digest:
                        log.warning("dropped the intent of edit #%s: %s changed since by hand", intent.id, path)
    except FAULTS as exc:
        log.warning("cannot settle the unrecorded edits of %s: %s", path, exc)


def history(store: Store, path: Path | None, rule: str | None = None, limit: int = 20) -> list[EditRecord]:
    """The newest recorded edits (of ``rule``), once the intents a crash left are settled against ``path``."""
    if path is not None:
        settle(store, path)
    return rows.edits(store, rule, limit)


@dataclass(frozen=True)
class Undo:
    """The edit to undo and the preview of its inverse; apply with ``undoes=record.id``."""

    record: EditRecord
    preview: Preview


def preview_undo(store: Store, path: Path) -> Undo:
    """Preview the inverse of the last edit still in effect, if the file is still what that edit left."""
    settle(store, path)
    record = rows.last_edit(store)
    if record is None or record.inverse_json is None:
        raise BotError("no edit to undo")
    data, _ = read_config_text(path)
    if digest(data) != record.new_digest:
        raise BotError(
            f"{path.name} changed since edit #{record.id} ({edit_summary(record)}, {record.at}): undoing it would "
            "overwrite that change; nothing was written. Change it back with a new edit instead (/set in chat, "
            "rules set on the command line)"
        )
    return Undo(record, bot.config.preview(path, Edit.from_json(record.inverse_json)))
