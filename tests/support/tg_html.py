"""Telegram's HTML parse mode as the fake Bot API applies it: the tags it knows, entities, and the limits counted
after parsing. A text it cannot parse is refused with 400 "can't parse entities", as Telegram refuses it."""

from __future__ import annotations

import html
import re

# https://core.telegram.org/bots/api#html-style
TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre"}
    | {"blockquote", "tg-emoji"}
)
_MARK = re.compile(r"<(/?)([A-Za-z][\w-]*)[^<>]*>|[<>&]")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def visible_length(text: str, parse_mode: str | None) -> int:
    """What Telegram counts against its limits: the text after entity parsing, in characters."""
    if parse_mode == "HTML":
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return len(text)


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode (None: it parses): an unknown tag, a tag left open
    or closed out of order, a bare "<", or an "&" that starts no entity (one cut in half)."""
    stack: list[str] = []
    for m in _MARK.finditer(text):
        if m.group(0) == "&":
            if not _ENTITY.match(text, m.start()):
                return f"can't parse entities: bare & at byte offset {m.start()}"
            continue
        if m.group(0) in "<>":
            if m.group(0) == "<":
                return f"can't parse entities: unexpected < at byte offset {m.start()}"
            continue
        closing, tag = m.group(1), m.group(2).lower()
        if tag not in TAGS:
            return f"can't parse entities: unsupported start tag {tag}"
        if not closing:
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            return f"can't parse entities: can't find end tag corresponding to start tag {tag}"
    return f"can't parse entities: can't find end tag corresponding to start tag {stack[-1]}" if stack else None
