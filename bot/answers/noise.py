"""How often a rule fires and whether its firings beat any day, in one line: what tells a regime signal from noise.

Light on purpose (no pandas): ``rules list`` prints it from the cached track records without loading
the engine, and /rules through the same words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rules import Odds, adjusted, headline_horizon, horizon_label, odds_phrase

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


def odds_text(payload: dict[str, Any]) -> str:
    """ "; rise after 3 months: 4 of 7 firings (57%); on any day: 48% — too few firings to tell (…)", or ""."""
    summaries = {int(s["horizon"]): s for s in payload.get("summaries", [])}
    if not summaries:
        return ""
    h = headline_horizon(tuple(summaries))
    s = summaries[h]
    n = int(s.get("n", 0))
    if not n:
        return ""
    what = "beat" if payload.get("benchmark") else "rise"
    return f"; {what} after {horizon_label(h)}: {odds_phrase(Odds.from_dict(s), h)}"


def noise_from_payload(payload: dict[str, Any]) -> str:
    """``noise_text`` of a track record in its JSON form (as the store caches it), with its odds against any day."""
    firings = [dt.date.fromisoformat(str(f["date"])) for f in payload.get("firings", [])]
    since, as_of = payload.get("since"), payload.get("as_of")
    return noise_text(
        firings,
        dt.date.fromisoformat(since) if isinstance(since, str) else None,
        dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None,
    ) + odds_text(payload)


def as_family(payloads: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The records of a page that lists several rules, each horizon's p-value adjusted with every other's
    (Benjamini–Hochberg over all rules × horizons): six rules at three horizons are 18 tests, and the one
    at p = 0.04 among them is no finding on its own."""
    keys = [(name, i) for name, p in payloads.items() for i, _ in enumerate(p.get("summaries", []))]
    raw = [payloads[name]["summaries"][i].get("p_value") for name, i in keys]
    ps = dict(zip(keys, adjusted(raw), strict=True))
    m = sum(p is not None for p in raw)
    out: dict[str, dict[str, Any]] = {}
    for name, payload in payloads.items():
        summaries = [
            {**s, "p_adjusted": ps[(name, i)], "family": m} for i, s in enumerate(payload.get("summaries", []))
        ]
        out[name] = {**payload, "summaries": summaries}
    return out


def noise_texts(payloads: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``noise_from_payload`` of each rule of a listing, its verdict adjusted with all the others'."""
    return {name: noise_from_payload(p) for name, p in as_family(payloads).items()}


def record_noise(record: TrackRecord) -> str:
    """``noise_from_payload`` of one track record (its horizons a family)."""
    return noise_from_payload(record.to_dict())
