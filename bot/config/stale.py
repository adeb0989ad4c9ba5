"""Words an edit leaves stale: after ``threshold = 0.42`` a comment in the rule's block that still says 0.4, and a
name that holds the old value (``rut-spx-above-0.4``). Found in the previewed text, so a preview can say so."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tomlkit.items import Comment, Item, Whitespace

from bot.config.edit import Preview, parse_document, rules_tables


@dataclass(frozen=True)
class StaleWords:
    """The old values still written in the rule's comments, those comments, and a name with the new value."""

    old: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    rename: str | None = None

    def __bool__(self) -> bool:
        return bool(self.comments or self.rename)


def stale_words(preview: Preview) -> StaleWords:
    """What in the edited rule's block still names a value the edit replaced (nothing for other edits)."""
    changed = _changed(preview)
    if not changed:
        return StaleWords()
    name = preview.edit.rule
    table = next((t for t in rules_tables(parse_document(preview.new_text)[0]) if t.get("name") == name), None)
    if table is None:
        return StaleWords()
    notes: list[str] = []
    for _, item in table.value.body:
        text = item.as_string().strip() if isinstance(item, Comment) else None
        if text is None and isinstance(item, Item) and not isinstance(item, Whitespace) and item.trivia.comment:
            text = item.trivia.comment.strip()
        if text and any(_names(text, old) for old in changed):
            notes.append(text)
    old = tuple(o for o in changed if _names(name, o) or any(_names(c, o) for c in notes))
    rename = next((_swap(name, o, changed[o]) for o in changed if _names(name, o)), None)
    return StaleWords(old, tuple(notes), rename)


def _changed(preview: Preview) -> dict[str, str]:
    """Old value → new value (TOML text, quotes dropped) of each key the edit sets."""
    olds = {p.key: p.raw for p in preview.inverse.parts if p.kind == "set" and p.raw is not None}
    news = {p.key: p.raw for p in preview.edit.parts if p.kind == "set" and p.raw is not None}
    pairs = {olds[k].strip('"'): news[k].strip('"') for k in news if k in olds}
    return {old: new for old, new in pairs.items() if old and old != new}


def _names(text: str, value: str) -> bool:
    """``value`` as a word of its own in ``text``: 0.4 is in "around 0.4" and "above-0.4", not in 0.42 or 10.4."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w]|\.\d)", text) is not None


def _swap(name: str, old: str, new: str) -> str:
    return re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w]|\.\d)", new, name)
