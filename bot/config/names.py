"""Names for rules added from chat (``/watch ratio ^RUT ^GSPC crosses_above 0.42``): readable, made from
what the rule watches, and unique in the file."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SPEC_KEYS = frozenset(
    {"name", "metric", "condition", "threshold", "low", "high", "days", "hysteresis", "for_days", "cooldown_days"}
    | {"resolve", "severity", "chats", "message", "description", "enabled", "horizons", "track", "basis"}
)


def slug(value: Any) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", str(value).lower()).strip("-.")


def generated_name(table: Mapping[str, Any], existing: Sequence[str]) -> str:
    """A readable name from what the rule watches: ``ratio ^RUT ^GSPC crosses_above 0.42`` →
    ``rut-gspc-ratio-crosses-above-0.42``; ``-2``, ``-3``… when taken."""
    params = [v for k, v in table.items() if k not in SPEC_KEYS and type(v) in (str, int)]
    lines = [table[k] for k in ("threshold", "low", "high") if isinstance(table.get(k), int | float)]
    words = [*params, table.get("metric", "rule"), table.get("condition", ""), *lines]
    base = "-".join(s for s in (slug(w) for w in words) if s)[:72].strip("-") or "rule"
    name, n = base, 1
    while name in existing:
        n += 1
        name = f"{base}-{n}"
    return name
