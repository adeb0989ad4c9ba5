"""Low-level handling of config.toml's [[rules]] tables as tomlkit items: set a key keeping its place and
comment, read and set the blank lines that end a table, and a table's exact text."""

from __future__ import annotations

import tomlkit
from tomlkit.items import Item, Table, Whitespace
from tomlkit.toml_document import TOMLDocument

from bot.errors import BotError


def put_raw(table: Table, key: str, raw: str) -> None:
    """Set ``key`` to the TOML text ``raw``, keeping its place, indent and trailing comment."""
    item = item_of(tomlkit.parse(f"v = {raw}\n"), "v")
    if key in table:
        old = item_of(table, key)
        item.trivia.indent, item.trivia.comment_ws = old.trivia.indent, old.trivia.comment_ws
        item.trivia.comment, item.trivia.trail = old.trivia.comment, old.trivia.trail
    table[key] = item


def item_of(container: TOMLDocument | Table, key: str) -> Item:
    item = container.item(key)
    if not isinstance(item, Item):
        raise BotError(f"{key!r} is split over several tables: edit config.toml by hand")
    return item


def table_tail(table: Table) -> str:
    """The blank lines that end a table's body (between it and whatever follows)."""
    out = []
    for key, item in reversed(table.value.body):
        if key is not None or not isinstance(item, Whitespace):
            break
        out.append(item.as_string())
    return "".join(reversed(out))


def set_table_tail(table: Table, text: str) -> None:
    body = table.value.body
    while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace):
        body.pop()
    if text:
        body.append((None, Whitespace(text)))


def render_table(table: Table) -> str:
    """The exact text of one [[rules]] table: header (with what precedes it on its line) and body."""
    t = table.trivia
    return f"{t.indent}[[rules]]{t.comment_ws}{t.comment}{t.trail}{table.as_string()}"
