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
