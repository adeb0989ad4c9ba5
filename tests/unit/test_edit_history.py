"""The config edit history: the store's rows (newest first, per rule, which edit undo reverts next) and the flow
above them that writes the file, records the edit and settles what a crash left."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bot.config
from bot.config.edit import Edit, preview
from bot.edits import preview_undo, save_edit, settle
from bot.errors import BotError
from bot.store.db import Store
from bot.store.edits import edits, last_edit, record_edit
from tests.support.paths import REPO


def test_record_and_list_newest_first(store: Store) -> None:
    a = record_edit(store, None, Edit.set("r1", "threshold", "1").to_json(), "-a\n+b\n", "d0", "d1")
    b = record_edit(store, 42, Edit.rename("r2", "r3").to_json(), "-x\n+y\n", "d1", "d2")
    rows = edits(store)
    assert [r.id for r in rows] == [b, a]
    assert rows[0].who == "chat 42" and rows[1].who == "command line"
    assert rows[1].diff == "-a\n+b\n" and rows[1].base_digest == "d0" and rows[1].new_digest == "d1"
    assert [r.id for r in edits(store, rule="r1")] == [a]
    assert [r.id for r in edits(store, rule="r3")] == [b]  # a rename is found under both names
    assert [r.id for r in edits(store, limit=1)] == [b]
    assert last_edit(store) is not None and last_edit(store).id == b  # type: ignore[union-attr]


def test_undo_walks_back_through_the_edits_and_refuses_after_a_hand_edit(store: Store, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    shutil.copy(REPO / "config.toml", cfg)
    original = cfg.read_bytes()
    with pytest.raises(BotError, match="no edit to undo"):
        preview_undo(store, cfg)
    save_edit(store, cfg, preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42")), chat_id=None)
    second = save_edit(store, cfg, preview(cfg, Edit.disable("breadth-above-75")), chat_id=7)
    undo = preview_undo(store, cfg)
    assert undo.record.id == second.id and "-enabled = false" in undo.preview.diff
    save_edit(store, cfg, undo.preview, chat_id=7, undoes=undo.record.id)
    undo = preview_undo(store, cfg)
    save_edit(store, cfg, undo.preview, chat_id=None, undoes=undo.record.id)
    assert cfg.read_bytes() == original
    assert len(edits(store)) == 4
    with pytest.raises(BotError, match="no edit to undo"):
        preview_undo(store, cfg)
    save_edit(store, cfg, preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42")), chat_id=None)
    cfg.write_text(cfg.read_text() + "# a hand edit\n")
    with pytest.raises(BotError, match="changed since edit #5"):
        preview_undo(store, cfg)


def intents(store: Store) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM config_edits WHERE pending IS NOT NULL").fetchone()[0])


def test_an_intent_whose_file_changed_by_hand_since_is_dropped(store: Store, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    shutil.copy(REPO / "config.toml", cfg)
    p = preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42"))
    record_edit(store, None, p.edit.to_json(), p.diff, p.base_digest, p.new_digest, pending=True)
    cfg.write_text(cfg.read_text() + "# a hand edit\n")  # neither the old hash nor the new one
    settle(store, cfg)
    assert intents(store) == 0 and edits(store) == []
    with pytest.raises(BotError, match="no edit to undo"):
        preview_undo(store, cfg)


def test_an_edit_whose_intent_another_process_dropped_is_still_recorded_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `rules history` in another process settles between the intent and the rename: it sees the old hash."""
    cfg = tmp_path / "config.toml"
    shutil.copy(REPO / "config.toml", cfg)
    apply = bot.config.apply

    def settled_first(path: Path, p: bot.config.Preview) -> None:
        settle(store, path)
        assert intents(store) == 0
        apply(path, p)

    monkeypatch.setattr(bot.config, "apply", settled_first)
    record = save_edit(store, cfg, preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42")), chat_id=None)
    assert [r.id for r in edits(store)] == [record.id] and intents(store) == 0
    assert preview_undo(store, cfg).record.id == record.id
