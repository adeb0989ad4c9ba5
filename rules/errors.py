"""Errors raised by the rule engine.

Hierarchy::

    RuleError                 base of everything rules/ raises
    ├── ConfigError           one or more problems in rule definitions (all listed at once)
    └── DataError             the data a rule needs is missing (unknown symbol, empty history)

They carry plain sentences; only the CLI and the Telegram error handler render them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class RuleError(Exception):
    """Base class for rule engine errors."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can: file, rule, field."""

    message: str
    rule: str | None = None
    field: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = []
        if self.rule is not None:
            where.append(f'rule "{self.rule}"')
        if self.field:
            where.append(f'field "{self.field}"')
        text = f"{' '.join(where)}: {self.message}" if where else self.message
        return f"{self.source}: {text}" if self.source else text


class ConfigError(RuleError):
    """The rule definitions are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DataError(RuleError):
    """A rule cannot be evaluated because its data is missing."""


def describe_input(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_BOUNDS = {
    "greater_than_equal": "a value ≥",
    "greater_than": "a value >",
    "less_than_equal": "a value ≤",
    "less_than": "a value <",
    "string_too_long": "at most this many characters:",
}


def pydantic_problems(err: ValidationError, rule: str | None, prefix: str = "") -> list[Problem]:
    """pydantic's errors as our one-line sentences, each naming the field and what it got."""
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        field = f"{prefix}{loc}" if loc else None
        kind = e["type"]
        got = describe_input(e.get("input"))
        if kind == "missing":
            msg = "is required"
        elif kind == "extra_forbidden":
            msg = "unknown key"
        elif kind in ("float_type", "float_parsing"):
            msg = f"expected a number, got {got}"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            msg = f"expected a whole number, got {got}"
        elif kind in ("string_type",):
            msg = f"expected text, got {got}"
        elif kind in ("bool_type", "bool_parsing"):
            msg = f"expected true or false, got {got}"
        elif kind == "literal_error":
            expected = e.get("ctx", {}).get("expected", "")
            msg = f"expected one of {expected}, got {got}"
        elif kind == "value_error":
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
        elif kind in ("finite_number",):
            msg = f"expected a finite number, got {got}"
        elif kind in _BOUNDS:
            bound = next(iter(e.get("ctx", {}).values()), "")
            limit = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
            msg = f"expected {_BOUNDS[kind]} {limit}, got {got}"
        elif kind == "list_type":
            msg = f"expected a list, got {got}"
        elif kind == "string_too_short":
            msg = f"must not be empty, got {got}"
        else:
            msg = f"{e['msg'][0].lower()}{e['msg'][1:]}, got {got}"
        if kind == "value_error" and not loc:
            field = None
        out.append(Problem(msg, rule=rule, field=field))
    return out
