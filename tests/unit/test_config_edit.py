"""Editing config.toml from code: every comment survives, undo restores the file byte for byte, a bad
edit is the located error of `rules check` and writes nothing, and a file changed since the preview is
never overwritten."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from bot.config.edit import Edit, EditConflict, apply, preview
from bot.config.names import generated_name
from bot.config.settings import load_config, parse_config
from bot.config.tomlvalues import parse_value
from bot.errors import BotError, ConfigFileError
from bot.market.whatif import parse_edits
from tests.support.paths import REPO

SHIPPED = REPO / "config.toml"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    shutil.copy(SHIPPED, path)
    return path


def comments(text: str) -> list[str]:
    """Every comment of the file: whole comment lines and trailing comments (no string in config.toml holds a #)."""
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def rule_block(text: str, name: str) -> str:
    """The lines of one [[rules]] table, up to the blank line after it."""
    start = text.index(f'[[rules]]\nname = "{name}"')
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else len(text)]


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


NEW_LINE = {"threshold": 0.42}
TEN_EDITS = [
    Edit.set("rut-spx-above-0.4", "threshold", "0.42"),  # a value with a trailing comment on the next line
    Edit.set("rut-spx-above-0.4", "hysteresis", "0.02"),  # the changed value keeps its trailing comment
    Edit.set("rut-beats-spx-10d", "hysteresis", "0.5"),  # a key that was absent
    Edit.disable("breadth-above-75"),
    Edit.set("breadth-above-75", "message", "Breadth {value:.1f}%"),  # not TOML: taken as text
    Edit.rename("rut-spx-below-0.4", "ratio-below-0.4"),
    Edit.add({"metric": "ratio", "numerator": "^RUT", "denominator": "^GSPC", "condition": "crosses_above"} | NEW_LINE),
    Edit.remove("rut-beats-spx-10d"),  # a rule in the middle, with its comments
    Edit.remove("rsp-spy-above-200d"),  # the last rule of the file
    Edit.enable("breadth-above-75"),
]


def test_ten_edits_keep_every_comment_and_undoing_them_restores_the_file_byte_for_byte(cfg: Path) -> None:
    original = cfg.read_bytes()
    texts = [original.decode()]
    inverses = []
    for edit in TEN_EDITS:
        p = preview(cfg, edit)
        assert p.old_text == texts[-1]
        assert p.base_digest == hashlib.sha256(texts[-1].encode()).hexdigest()
        apply(cfg, p)
        now = cfg.read_text()
        assert now == p.new_text != p.old_text
        assert load_config(cfg).rules == p.new_config.rules  # what was validated is what the bot loads
        inverses.append(p.inverse)
        texts.append(now)
    kept = comments(texts[-1])
    removed = [c for name in ("rut-beats-spx-10d", "rsp-spy-above-200d") for c in comments(rule_block(texts[0], name))]
    assert [c for c in comments(texts[0]) if c not in kept] == removed  # only the removed rules' own comments went
    assert len(removed) == 6
    for inverse in reversed(inverses):
        p = preview(cfg, inverse)
        apply(cfg, p)
        texts.pop()
        assert cfg.read_text() == texts[-1], f"undo of {inverse} left\n{p.diff}"
    assert cfg.read_bytes() == original


def test_a_set_changes_only_its_value_and_keeps_the_trailing_comment(cfg: Path) -> None:
    p = preview(cfg, Edit.set("rut-spx-above-0.4", "hysteresis", "0.02"))
    removed, added = changed_lines(p.old_text, p.new_text)
    assert removed == [
        "hysteresis = 0.01           # re-armed only after the ratio went back below 0.39: no flip-flops around 0.4"
    ]
    assert added == [
        "hysteresis = 0.02           # re-armed only after the ratio went back below 0.39: no flip-flops around 0.4"
    ]
    assert "-hysteresis = 0.01" in p.diff and "+hysteresis = 0.02" in p.diff
    assert len(p.diff.splitlines()) < 12  # the changed lines with a little context, not the file
    assert cfg.read_text() == p.old_text  # a preview writes nothing


def test_disable_adds_one_line_inside_the_rule(cfg: Path) -> None:
    p = preview(cfg, Edit.disable("rut-spx-below-0.4"))
    removed, added = changed_lines(p.old_text, p.new_text)
    assert (removed, added) == ([], ["enabled = false"])
    assert not next(r for r in p.new_config.rules if r.name == "rut-spx-below-0.4").spec.enabled


def test_invalid_edit_is_the_located_error_of_rules_check_and_writes_nothing(cfg: Path) -> None:
    before = cfg.read_bytes()
    with pytest.raises(ConfigFileError) as err:
        preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "abc"))
    assert str(err.value) == 'config.toml: rule "rut-spx-above-0.4" field "threshold": expected a number, got "abc"'
    with pytest.raises(ConfigFileError, match=re.escape('rule "rut-spx-above-0.4" field "condition"')):
        preview(cfg, Edit.set("rut-spx-above-0.4", "condition", "over"))
    with pytest.raises(ConfigFileError, match="duplicate name"):
        preview(cfg, Edit.rename("rut-spx-above-0.4", "rut-spx-below-0.4"))
    assert cfg.read_bytes() == before


def test_unknown_rule_names_the_known_rules(cfg: Path) -> None:
    with pytest.raises(BotError, match=r"no rule named 'rut-spx'; known rules: rut-spx-above-0.4, rut-spx-below-0.4"):
        preview(cfg, Edit.set("rut-spx", "threshold", "0.4"))


def test_removing_the_last_rule_is_refused_rather_than_bringing_back_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[rules]]\nname = "only"\nmetric = "close"\nsymbol = "SPY"\ncondition = "above"\nthreshold = 1\n')
    with pytest.raises(BotError, match="last rule"):
        preview(path, Edit.remove("only"))


def test_the_first_edit_of_a_config_without_rules_writes_the_defaults_out(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\n[store]\npath = "s.sqlite"  # here\n')
    p = preview(path, Edit.set("breadth-above-75", "threshold", "80"))
    assert "built-in default rules" in p.diff.splitlines()[0]
    assert p.new_text.startswith('# mine\n[store]\npath = "s.sqlite"  # here\n')
    names = [r.name for r in p.new_config.rules]
    assert names == [r.name for r in parse_config({}).rules]
    assert next(r for r in p.new_config.rules if r.name == "breadth-above-75").spec.threshold == 80
    apply(path, p)
    assert load_config(path).rules == p.new_config.rules


def test_apply_refuses_when_the_file_changed_since_the_preview(cfg: Path) -> None:
    p = preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42"))
    cfg.write_text(cfg.read_text() + "# a line added by hand\n")
    changed = cfg.read_bytes()
    with pytest.raises(EditConflict, match="changed on disk since the preview: nothing was written; preview again"):
        apply(cfg, p)
    assert cfg.read_bytes() == changed
    assert isinstance(EditConflict("x"), BotError)


def test_apply_keeps_permissions_and_clears_temp_files_a_crash_left(cfg: Path) -> None:
    os.chmod(cfg, 0o640)
    stray = cfg.parent / ".config.toml.abc123.tmp"
    stray.write_text("half")
    apply(cfg, preview(cfg, Edit.set("rut-spx-above-0.4", "threshold", "0.42")))
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o640
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]


def test_edits_round_trip_through_json(cfg: Path) -> None:
    for edit in TEN_EDITS:
        assert Edit.from_json(edit.to_json()) == edit
    p = preview(cfg, Edit.remove("breadth-above-75"))
    assert Edit.from_json(p.inverse.to_json()) == p.inverse


def test_a_generated_name_reads_like_the_command_and_is_unique() -> None:
    table = {"metric": "ratio", "numerator": "^RUT", "denominator": "^GSPC", "condition": "crosses_above"}
    assert generated_name({**table, "threshold": 0.42}, []) == "rut-gspc-ratio-crosses-above-0.42"
    taken = ["rut-gspc-ratio-crosses-above-0.42", "rut-gspc-ratio-crosses-above-0.42-2"]
    assert generated_name({**table, "threshold": 0.42}, taken) == "rut-gspc-ratio-crosses-above-0.42-3"
    between = {"metric": "breadth", "universe": "sp500", "condition": "between", "low": 40, "high": 60}
    assert generated_name(between, []) == "sp500-breadth-between-40-60"


def test_an_added_rule_gets_its_generated_name(cfg: Path) -> None:
    p = preview(cfg, Edit.add({"metric": "close", "symbol": "SPY", "condition": "above", "threshold": 600}))
    assert p.edit.rule == "spy-close-above-600"
    assert p.new_config.rules[-1].name == "spy-close-above-600"
    assert p.new_text.endswith(
        '\n\n[[rules]]\nname = "spy-close-above-600"\nmetric = "close"\nsymbol = "SPY"\n'
        'condition = "above"\nthreshold = 600\n'
    )


def test_parse_value_reads_toml_and_falls_back_to_text() -> None:
    assert parse_value("0.42") == 0.42
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("crosses_below") == "crosses_below"
    assert parse_value('"true"') == "true"
    assert parse_edits(["threshold=0.42"]) == {"threshold": 0.42}


def test_editor_chats_are_validated_and_admins_are_editors() -> None:
    cfg = parse_config({"telegram": {"allowed_chats": [1, 5], "admin_chats": [7], "editor_chats": [5]}})
    assert cfg.is_editor(5) and cfg.is_editor(7) and not cfg.is_editor(1)
    assert not parse_config({}).is_editor(1)
    with pytest.raises(ConfigFileError, match="editor_chats"):
        parse_config({"telegram": {"editor_chats": ["x"]}})
    with pytest.raises(ConfigFileError, match=r"editor_chats.*\[9\].*allowed_chats"):
        parse_config({"telegram": {"allowed_chats": [1], "editor_chats": [9]}})
