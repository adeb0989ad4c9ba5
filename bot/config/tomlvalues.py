"""Values as a user types them (``0.42``, ``crosses_below``, ``[1, 2]``) and back as TOML source.

A chat or command line gives text; it is read as a TOML value, falling back to a string, so numbers stay numbers
and a bare word is text. Written back, a value is one line of TOML (tables inline), ready for its key.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from tomlkit.items import Item


def parse_value(text: str) -> Any:
    """A TOML value (0.42, 5, true, [1, 2], "text"); a bare word is text (condition=crosses_below)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, ValueError):  # ValueError: an integer of thousands of digits
        return text


def toml_text(value: Any) -> str:
    """``value`` as TOML source; text that is not TOML becomes a quoted string (as ``parse_value`` reads it)."""
    if isinstance(value, str):
        try:
            tomllib.loads(f"v = {value}")
            item = tomlkit.parse(f"v = {value}\n").item("v")
            return str(item.as_string()) if isinstance(item, Item) else value
        except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError, ValueError):
            return str(tomlkit.string(value).as_string())
    return str(tomlkit.item(_inline(value)).as_string())


def _inline(value: Any) -> Any:
    """Tables inside a value as inline tables: a key's value is one line (``{a = 1}``), never a [section]."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[k] = _inline(v)
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(_inline(v) for v in value)
        return array
    return value
