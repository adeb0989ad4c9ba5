"""An alert as the engine emits it and the bot records and delivers it: plain data, no pandas."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Alert:
    """One alert: a rule fired (``kind="firing"``) or stopped holding (``kind="resolved"``)."""

    rule: str
    date: dt.date
    value: float
    message: str
    kind: str = "firing"
    direction: str = ""
    severity: str = "info"
    metric: str = ""
    threshold: float | None = None
    previous: float | None = None
    chats: tuple[int, ...] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why the rule's template could not be used (the message is then a plain one)

    @property
    def key(self) -> str:
        """Stable identity: a rule alerts at most once per day and kind."""
        return f"{self.rule}|{self.date.isoformat()}|{self.kind}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "date": self.date.isoformat(),
            "value": self.value,
            "kind": self.kind,
            "direction": self.direction,
            "severity": self.severity,
            "metric": self.metric,
            "threshold": self.threshold,
            "previous": self.previous,
            "message": self.message,
            "details": self.details,
            **({"problem": self.problem} if self.problem else {}),
        }
