"""How often a rule fires, in one line: the figure that tells a regime signal from noise.

Light on purpose (no pandas): ``rules list`` prints it from the cached track records without loading
the engine, and /rules through the same words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rules import TrackRecord


def noise_text(firings: Sequence[dt.date], since: dt.date | None, as_of: dt.date | None) -> str:
    """ "1.1 a year (29 since 1987; most 11, in 2024)", or "never fired since 1987"."""
    start = f" since {since.year}" if since else ""
    if not firings:
        return f"never fired{start}"
    years = max(1.0, (as_of - since).days / 365.25) if since and as_of else 1.0
    year, most = max(Counter(d.year for d in firings).items(), key=lambda kv: (kv[1], kv[0]))
    return f"{len(firings) / years:.1f} a year ({len(firings)}{start}; most {most}, in {year})"


def noise_from_payload(payload: dict[str, Any]) -> str:
    """``noise_text`` of a cached track record (its JSON form, as the store keeps it)."""
    firings = [dt.date.fromisoformat(str(f["date"])) for f in payload.get("firings", [])]
    since, as_of = payload.get("since"), payload.get("as_of")
    return noise_text(
        firings,
        dt.date.fromisoformat(since) if isinstance(since, str) else None,
        dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None,
    )


def record_noise(record: TrackRecord) -> str:
    """``noise_text`` of a track record."""
    return noise_text([f.date for f in record.firings], record.since, record.as_of)
