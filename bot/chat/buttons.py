"""Buttons: a row of the command table, pressed instead of typed.

A button carries its command's name and arguments in Telegram's 64-byte ``callback_data``; a rule
travels as a short reference to its name, resolved against the rules in force when pressed, so a
button of a renamed or removed rule says so instead of acting on something else. Pressing runs the
command through ``run_command``, with the same checks as typing it: who may, and which arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Config

MAX_DATA = 64  # bytes of callback_data Telegram keeps


def rule_ref(name: str) -> str:
    return "#" + hashlib.sha1(name.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Button:
    label: str
    command: str
    rule: str | None = None
    args: tuple[str, ...] = ()

    @property
    def typed(self) -> str:
        """The command line the button stands for."""
        return " ".join(["/" + self.command, *([self.rule] if self.rule else []), *self.args])

    @property
    def data(self) -> str:
        data = ":".join([self.command, rule_ref(self.rule) if self.rule else "", *self.args])
        if len(data.encode()) > MAX_DATA:
            raise ValueError(f"button data over {MAX_DATA} bytes: {data!r}")
        return data


Keyboard = tuple[tuple[Button, ...], ...]


def parse_button(data: str, config: Config) -> tuple[str, list[str]] | None:
    """(command, arguments) of a pressed button; None when it names no rule in force (or is not ours)."""
    parts = data.split(":")
    if len(parts) < 2 or not parts[0].isidentifier():
        return None
    command, ref, args = parts[0], parts[1], parts[2:]
    if not ref:
        return command, args
    names = [r.name for r in config.rules if rule_ref(r.name) == ref]
    return (command, [names[0], *args]) if names else None


def alert_buttons(rule: str) -> Keyboard:
    """Under every alert: its chart, its track record, and a day of quiet for it in this chat."""
    return (
        (
            Button("📈 Chart", "chart", rule),
            Button("📊 Track record", "stats", rule),
            Button("🔕 Silence 1 day", "silence", rule, ("1d",)),
        ),
    )


def labels(rows: Sequence[Sequence[Button]]) -> str:
    """How the console shows buttons it cannot press: each with the command that does the same, to type."""
    return "  ".join(f"[{b.label}: {b.typed}]" for row in rows for b in row)
