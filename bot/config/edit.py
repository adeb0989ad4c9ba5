"""Changing config.toml's rules from code (chat commands, ``rotation-bot rules set``), the file staying the
single source of truth: every comment, blank line and key order survives, and an edit is undone by another
edit that puts the file back byte for byte.

An edit is previewed first (the new text, validated exactly as ``load_config`` would read it, and its diff),
then applied only if the file still holds the bytes the preview read, written atomically: a crash leaves
the old file or the new one, never a mix.
"""

from __future__ import annotations

import difflib
import json
import threading
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.items import AoT
from tomlkit.toml_document import TOMLDocument

from bot.config.defaults import DEFAULT_RULES
from bot.config.files import digest, read_config_text, write_atomic
from bot.config.names import generated_name
from bot.config.settings import Config, config_from_text, no_such_rule
from bot.config.tomltables import item_of, put_raw, render_table, set_table_tail, table_tail
from bot.config.tomlvalues import toml_text
from bot.errors import BotError, ConfigFileError

Kind = Literal["set", "unset", "update", "enable", "disable", "add", "rename", "remove"]
KINDS: tuple[Kind, ...] = ("set", "unset", "update", "enable", "disable", "add", "rename", "remove")
DEFAULTS_NOTE = "# config.toml had no [[rules]]: the built-in default rules are written out first, then edited"


class EditConflict(BotError):
    """The file changed between preview and apply: applying would overwrite someone else's change."""


@dataclass(frozen=True)
class Edit:
    """One change to the rules of a config file. Values travel as TOML text (``raw``), so an undo writes back
    exactly the characters that were there (``0.40`` stays ``0.40``).

    ``set``/``unset`` a key of ``rule``; ``update`` several keys at once (``raw`` is the JSON list of its
    ``set``/``unset`` parts, applied in order); ``enable``/``disable`` it; ``rename`` it to ``new_name``; ``remove``
    it; ``add`` a rule table (``raw`` is its ``[[rules]]`` text; ``position`` and ``gap``, the blank lines
    before it, put a removed rule back where it was).
    """

    kind: Kind
    rule: str
    key: str | None = None
    raw: str | None = None
    new_name: str | None = None
    position: int | None = None
    gap: str | None = None

    @classmethod
    def set(cls, rule: str, key: str, value: Any) -> Edit:
        """Text is read as TOML, falling back to a string: ``"0.42"`` is a number, ``"crosses_below"`` text."""
        return cls("set", rule, key=key, raw=toml_text(value))

    @classmethod
    def update(cls, rule: str, pairs: Sequence[tuple[str, Any]]) -> Edit:
        """Several keys in one edit (one diff, one record, one undo); each value read as ``set`` reads it."""
        return cls.of_parts(rule, [cls.set(rule, key, value) for key, value in pairs])

    @classmethod
    def of_parts(cls, rule: str, parts: Sequence[Edit]) -> Edit:
        data = [{k: v for k, v in (("kind", p.kind), ("key", p.key), ("raw", p.raw)) if v is not None} for p in parts]
        return cls("update", rule, raw=json.dumps(data, ensure_ascii=False))

    @property
    def parts(self) -> tuple[Edit, ...]:
        """The set/unset edits an ``update`` is made of (the edit itself for any other kind)."""
        if self.kind != "update" or self.raw is None:
            return (self,)
        found = json.loads(self.raw)
        if not isinstance(found, list) or any(not isinstance(p, dict) or p.get("kind") not in KINDS[:2] for p in found):
            raise BotError(f"not a config edit: {self.raw[:80]!r}")
        return tuple(Edit(p["kind"], self.rule, key=p.get("key"), raw=p.get("raw")) for p in found)

    @classmethod
    def unset(cls, rule: str, key: str) -> Edit:
        return cls("unset", rule, key=key)

    @classmethod
    def enable(cls, rule: str) -> Edit:
        return cls("enable", rule)

    @classmethod
    def disable(cls, rule: str) -> Edit:
        return cls("disable", rule)

    @classmethod
    def rename(cls, rule: str, new_name: str) -> Edit:
        return cls("rename", rule, new_name=new_name)

    @classmethod
    def remove(cls, rule: str) -> Edit:
        return cls("remove", rule)

    @classmethod
    def add(cls, table: Mapping[str, Any], name: str | None = None) -> Edit:
        """A new rule; without a name (in ``table`` or given) one is made from it when previewed."""
        name = name or str(table.get("name") or "")
        body = {"name": name, **{k: v for k, v in table.items() if k != "name"}} if name else dict(table)
        return cls("add", name, raw=tomlkit.dumps({"rules": [body]}))

    @property
    def value(self) -> Any:
        """The value a ``set`` writes."""
        return tomllib.loads(f"v = {self.raw}")["v"] if self.kind == "set" and self.raw is not None else None

    @property
    def values(self) -> dict[str, Any]:
        """Key → value of what a ``set`` or an ``update`` writes (the overrides of its what-if)."""
        return {str(p.key): p.value for p in self.parts if p.kind == "set" and p.key is not None}

    @property
    def table(self) -> dict[str, Any]:
        """The rule table an ``add`` writes."""
        if self.kind != "add" or self.raw is None:
            return {}
        return dict(tomllib.loads(self.raw)["rules"][0])

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Edit:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("kind") not in KINDS or not isinstance(data.get("rule"), str):
            raise BotError(f"not a config edit: {text[:80]!r}")
        return cls(**data)

    def inverse(self, before: str) -> Edit:
        """The edit that turns the document this edit produces from ``before`` back into ``before``."""
        return _edit_document(parse_document(before)[0], self)[1]

    def describe(self, old: str | None = None, inverse: Edit | None = None) -> str:
        """One line saying what the edit does (``old``: the value it replaces, as TOML text; for an ``update``,
        its ``inverse`` holds them)."""
        what = f'rule "{self.rule}"'
        if self.kind == "update":
            olds = {p.key: p.raw for p in inverse.parts if p.kind == "set"} if inverse is not None else {}
            done = [p.describe(olds.get(p.key)).split(": ", 1)[-1] for p in self.parts]
            return f"{what}: {', '.join(done)}"
        if self.kind == "set":
            was = f"{old} → " if old is not None else "(not set) → "
            return f"{what}: {self.key} {was}{self.raw}"
        if self.kind == "unset":
            return f"{what}: {self.key} removed" + (f" (was {old})" if old is not None else "")
        if self.kind == "rename":
            return f'{what} renamed to "{self.new_name}"'
        return f"{what} {self.kind}d" if self.kind != "add" else f"{what} added"


@dataclass(frozen=True)
class Preview:
    """What an edit would write: both texts, their diff, the validated new config and the edit's inverse.

    ``edit`` is the edit as applied (an added rule's generated name filled in); ``base_digest`` is the
    sha256 of the file's bytes as read, which ``apply`` checks before writing.
    """

    edit: Edit
    old_text: str
    new_text: str
    base_digest: str
    diff: str
    new_config: Config
    inverse: Edit
    summary: str
    bom: bool = field(default=False, repr=False)

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    @property
    def new_digest(self) -> str:
        return digest(self.encoded())

    def encoded(self) -> bytes:
        return (("\ufeff" if self.bom else "") + self.new_text).encode("utf-8")


def preview(path: str | Path, edit: Edit) -> Preview:
    """Apply ``edit`` to the file's text in memory and validate the result as ``load_config`` would.

    Raises ConfigFileError with every located problem (``config.toml: rule "x" field "threshold": …``), or
    BotError for an unknown rule. Nothing is written.
    """
    path = Path(path)
    data, old_text = read_config_text(path)
    try:
        doc, materialized = parse_document(old_text)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    old_value = _current_raw(doc, edit)
    done, inverse = _edit_document(doc, edit)
    new_text = doc.as_string()
    if "\r\n" in old_text:
        new_text = new_text.replace("\r\n", "\n").replace("\n", "\r\n")
    config = config_from_text(new_text, path)
    if broken := [str(p) for n, p in config.unavailable.items() if n in (done.rule, done.new_name)]:
        raise ConfigFileError("\n".join(broken))  # the running bot would skip it: refuse the edit instead
    lines = list(
        difflib.unified_diff(
            old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), path.name, path.name, n=2
        )
    )
    diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if materialized:
        diff = f"{DEFAULTS_NOTE}\n{diff}"
    summary = done.describe(old_value, inverse)
    if new_text == old_text:
        summary = f"nothing to change: the file already says so ({summary})"
    bom = data.startswith(b"\xef\xbb\xbf")
    return Preview(done, old_text, new_text, digest(data), diff, config, inverse, summary, bom)


_apply_lock = threading.Lock()  # two Apply buttons pressed at once in one process: the second sees the conflict


def apply(path: str | Path, preview: Preview) -> None:
    """Write the previewed text, unless the file changed since the preview (EditConflict: nothing written)."""
    path = Path(path)
    with _apply_lock:
        try:
            now = path.read_bytes()
        except OSError as exc:
            raise ConfigFileError(f"{path}: cannot read config: {exc}") from None
        if digest(now) != preview.base_digest:
            raise EditConflict(f"{path.name} changed on disk since the preview: nothing was written; preview again")
        if preview.changed:
            try:
                write_atomic(path, preview.encoded(), checkpoint=_crash)
            except OSError as exc:  # a read-only folder, a full disk: the old file is still whole
                why = exc.strerror or str(exc)
                raise ConfigFileError(f"cannot write {path.name} ({why}): nothing was written") from None


# --- the document ---------------------------------------------------------------------------------


def parse_document(text: str) -> tuple[TOMLDocument, bool]:
    """The text as a tomlkit document whose rules are [[rules]] tables: when it has none, the built-in
    defaults are written out first (True), so an edit has something to change and means what it says."""
    doc = tomlkit.parse(text)
    if "rules" in doc:
        return doc, False
    doc.append("rules", tomlkit.parse(tomlkit.dumps({"rules": DEFAULT_RULES}))["rules"])
    return doc, True


def rules_tables(doc: TOMLDocument) -> AoT:
    rules = doc.get("rules")
    if not isinstance(rules, AoT):
        raise BotError("config.toml's rules are not [[rules]] tables: edit this file by hand")
    return rules


def rule_names(doc: TOMLDocument) -> list[str]:
    return [str(t.get("name")) for t in rules_tables(doc) if isinstance(t.get("name"), str)]


def _find(doc: TOMLDocument, name: str) -> int:
    for i, table in enumerate(rules_tables(doc)):
        if table.get("name") == name:
            return i
    raise no_such_rule(name, rule_names(doc))


def _current_raw(doc: TOMLDocument, edit: Edit) -> str | None:
    """The TOML text of the value an edit replaces (None when absent, or not a value edit)."""
    if edit.kind not in ("set", "unset") or edit.key is None:
        return None
    table = rules_tables(doc)[_find(doc, edit.rule)]
    return item_of(table, edit.key).as_string() if edit.key in table else None


def _edit_document(doc: TOMLDocument, edit: Edit) -> tuple[Edit, Edit]:
    """Apply ``edit`` to ``doc`` in place; returns the edit as applied and its inverse."""
    if edit.kind == "add":
        return _add(doc, edit)
    if edit.kind == "update":
        undo = [_edit_document(doc, part)[1] for part in edit.parts]
        return edit, Edit.of_parts(edit.rule, undo[::-1])
    tables = rules_tables(doc)
    i = _find(doc, edit.rule)
    table = tables[i]
    if edit.kind == "remove":
        if len(tables) == 1:
            raise BotError(
                f'rule "{edit.rule}" is the last rule: without rules the built-in defaults would apply; disable it'
            )
        gap = None
        if i > 0:
            gap = table_tail(tables[i - 1])
            set_table_tail(tables[i - 1], table_tail(table))
        source = render_table(table)
        del tables[i]
        return edit, Edit("add", edit.rule, raw=source, position=i, gap=gap)
    if edit.kind == "rename":
        if not edit.new_name:
            raise BotError("rename needs a new name")
        put_raw(table, "name", str(tomlkit.string(edit.new_name).as_string()))
        return edit, Edit.rename(edit.new_name, edit.rule)
    key = edit.key if edit.kind in ("set", "unset") else "enabled"
    if key is None:
        raise BotError(f"a {edit.kind} edit needs a key")
    if key == "name":
        raise BotError(f'rule "{edit.rule}": a name is changed by renaming the rule, not by setting `name`')
    old = item_of(table, key).as_string() if key in table else None
    inverse = Edit("set", edit.rule, key=key, raw=old) if old is not None else Edit.unset(edit.rule, key)
    if edit.kind == "set":
        if edit.raw is None:
            raise BotError("a set edit needs a value")
        put_raw(table, key, edit.raw)
    elif edit.kind == "unset":
        if key in table:
            del table[key]
    elif edit.kind == "disable":
        put_raw(table, key, "false")
    elif edit.kind == "enable" and key in table:  # absent means enabled: nothing to write
        put_raw(table, key, "true")
    return edit, inverse


def _add(doc: TOMLDocument, edit: Edit) -> tuple[Edit, Edit]:
    if edit.raw is None:
        raise BotError("an add edit needs a rule table")
    new = tomlkit.parse(edit.raw).get("rules")
    if not isinstance(new, AoT) or len(new) != 1:
        raise BotError("an add edit needs exactly one [[rules]] table")
    table = new[0]
    tables = rules_tables(doc)
    name = table.get("name")
    if not isinstance(name, str) or not name:
        name = generated_name(table.unwrap(), rule_names(doc))
        table = tomlkit.parse(tomlkit.dumps({"rules": [{"name": name, **table.unwrap()}]}))["rules"][0]
    at = len(tables) if edit.position is None else max(0, min(edit.position, len(tables)))
    if at > 0:
        prev = tables[at - 1]
        if edit.gap is None:  # a new rule: a blank line before it, and the gap after the previous one after it
            set_table_tail(table, table_tail(prev))
            set_table_tail(prev, "\n" if render_table(prev).endswith("\n") else "\n\n")
        else:
            set_table_tail(prev, edit.gap)
    elif edit.gap is None and tables:
        set_table_tail(table, "\n")
    tables.insert(at, table)
    done = replace(edit, rule=name, raw=render_table(table) if edit.gap is None else edit.raw)
    return done, Edit.remove(name)


# A test sets this to stop the process at a point of the write ("temp written", "replaced"), as a crash would.
crash_point: Callable[[str], None] | None = None


def _crash(point: str) -> None:
    if crash_point is not None:
        crash_point(point)
