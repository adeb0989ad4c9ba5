"""How a track record reads: the words shared by the alert line, ``stats``, what-ifs and ``rules list``.

No pandas here: ``rules list`` words a cached record (its JSON) without loading the engine, and
the alert line words a fresh one (``summary_line`` in rules/track.py, beside the record it reads);
both go through ``odds_phrase`` so they say the same thing.
The phrase always carries the base rate beside the hit rate and says in plain words whether the
difference is more than chance (the test itself is rules/evidence.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# How symbols read inside a sentence ("the Russell 2000 beat the S&P 500 …").
NAMES: dict[str, str] = {
    "^RUT": "the Russell 2000",
    "^GSPC": "the S&P 500",
    "^IXIC": "the Nasdaq Composite",
    "RSP": "equal-weight RSP",
}


def horizon_label(h: int) -> str:
    """21 trading days read as "1 month", 63 as "3 months"; other counts stay in days."""
    if h % 21 == 0:
        months = h // 21
        return f"{months} month" if months == 1 else f"{months} months"
    if h == 5:
        return "1 week"
    return f"{h} trading days"


def name(symbol: str) -> str:
    return NAMES.get(symbol, symbol)


def signed(value: float) -> str:
    """+1.4 / −3.0 with a real minus sign, and no "−0.0" for a move that rounds to nothing."""
    if round(value, 1) == 0:
        return "0.0"
    return f"{value:+.1f}".replace("-", "−")


def format_move(value: float | None, unit: str) -> str:
    """+1.4 pt / −3.0% / open."""
    if value is None:
        return "open"
    text = signed(value)
    return f"{text} pt" if unit == "pt" else f"{text}%"


def share(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def p_text(p: float | None) -> str:
    """p = 0.012 / p < 0.001: how surprising the firings' hit count is if they were any days."""
    if p is None:
        return "p –"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


EDGE = 0.15  # the edge a test must have had the power to see before "no clear difference" may be said (15 pt)
POWER_GOAL = 0.8  # ... with at least this chance
ALPHA = 0.05  # a difference is "better/worse than any day" when its (family-adjusted) two-sided p is below this

# Bumped when the evidence a record carries changes shape: a cached record of another version is recomputed.
EVIDENCE_VERSION = 4


def is_current(payload: Mapping[str, Any]) -> bool:
    """Whether a cached record (its JSON) carries this version's evidence (power, verdicts of four outcomes)."""
    return payload.get("evidence") == EVIDENCE_VERSION


# The four verdicts, as JSON carries them.
VERDICTS = ("better", "worse", "no_difference", "too_few")


def decide(p_adjusted: float | None, power: float | None, positive: int, n: int, base_rate: float | None) -> str | None:
    """ "better"/"worse" only when the test rejects after correction; "no_difference" when it did not but had
    the power to see the stated edge; "too_few" otherwise; None when there is nothing to test."""
    if p_adjusted is None or base_rate is None or not n:
        return None
    if p_adjusted < ALPHA:
        return "better" if positive / n > base_rate else "worse"
    return "no_difference" if power is not None and power >= POWER_GOAL else "too_few"


def adjusted(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values of a family (None stays None and is no member): what
    ``scipy.stats.false_discovery_control`` gives, without scipy, so a cached page adjusts without it."""
    members = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(members)
    out: list[float | None] = [None] * len(p_values)
    running = 1.0
    for rank in range(m, 0, -1):
        p, i = members[rank - 1]
        running = min(running, p * m / rank)
        out[i] = min(1.0, running)
    return out


@dataclass(frozen=True)
class Odds:
    """What one horizon's test says, in the form both a fresh record and a cached one (JSON) give it."""

    n: int  # complete firings
    positive: int
    independent: int  # of them, at least one horizon apart: the sample tested
    independent_positive: int
    base_rate: float | None
    p_value: float | None
    p_adjusted: float | None = None  # p_value adjusted within its family (None: a family of one)
    family: int = 1
    power: float | None = None  # chance of rejecting against base ± EDGE (the weaker side)
    min_detectable: float | None = None  # smallest edge seen with POWER_GOAL (None: none within 0-100%)

    @property
    def p(self) -> float | None:
        return self.p_value if self.p_adjusted is None else self.p_adjusted

    @property
    def verdict(self) -> str | None:
        return decide(self.p, self.power, self.independent_positive, self.independent, self.base_rate)

    @classmethod
    def from_dict(cls, s: Mapping[str, Any]) -> Odds:
        n = int(s.get("n", 0))
        return cls(
            n,
            int(s.get("positive", 0)),
            int(s.get("independent", n)),
            int(s.get("independent_positive", s.get("positive", 0))),
            s.get("base_rate"),
            s.get("p_value"),
            s.get("p_adjusted"),
            int(s.get("family", 1)),
            s.get("power"),
            s.get("min_detectable"),
        )


def pt(x: float) -> str:
    """An edge in hit-rate points: 0.15 → "15 pt"."""
    return f"{x * 100:.0f} pt"


def p_words(o: Odds) -> str:
    """ "p = 0.041" for a family of one, "p = 0.12 adjusted for 3 tests (0.041 alone)" otherwise."""
    if o.family <= 1 or o.p_adjusted is None:
        return p_text(o.p_value)
    return f"{p_text(o.p_adjusted)} adjusted for {o.family} tests ({p_text(o.p_value).removeprefix('p = ')} alone)"


def verdict_words(o: Odds, noun: str = "firing") -> str:
    """The verdict in words, the same in every rendering; "" when there is nothing to test."""
    v = o.verdict
    if v in ("better", "worse"):
        return f"{v} than any day ({p_words(o)})"
    if v == "no_difference":
        return f"no clear difference ({p_words(o)}; power {share(o.power)} against a {pt(EDGE)} edge)"
    if v == "too_few":
        seen = (
            f"only an edge of {pt(o.min_detectable)} or more could have shown"
            if o.min_detectable is not None
            else "no edge of any size could have shown"
        )
        return f"too few {noun}s to tell ({p_words(o)}; {seen})"
    return ""


def tested_text(o: Odds, horizon: int, noun: str = "firing") -> str:
    """The sample tested, named as such when it is not every firing:
    "14 firings, 7 at least 3 months apart: 4 of 7 (57%)", or "4 of 7 firings (57%)"."""
    if o.independent < o.n:
        return (
            f"{o.n} {noun}s, {o.independent} at least {horizon_label(horizon)} apart: "
            f"{o.independent_positive} of {o.independent} ({share(o.independent_positive / o.independent)})"
        )
    return f"{o.positive} of {o.n} {noun}{'' if o.n == 1 else 's'} ({share(o.positive / o.n if o.n else None)})"


def odds_phrase(o: Odds, horizon: int, noun: str = "firing") -> str:
    """ "7 firings: 4 of 7 (57%); on any day: 48% — too few firings to tell (…)": the figures tested, then the
    base rate and the verdict."""
    text = f"{tested_text(o, horizon, noun)}; on any day: {share(o.base_rate)}"
    words = verdict_words(o, noun)
    return f"{text} — {words}" if words else text


def headline_horizon(horizons: tuple[int, ...]) -> int:
    """The horizon one-line summaries quote: 3 months when tracked, else the middle one."""
    return 63 if 63 in horizons else horizons[len(horizons) // 2]


__all__ = [
    "ALPHA",
    "EDGE",
    "EVIDENCE_VERSION",
    "POWER_GOAL",
    "VERDICTS",
    "Odds",
    "adjusted",
    "decide",
    "format_move",
    "headline_horizon",
    "horizon_label",
    "is_current",
    "odds_phrase",
    "p_text",
    "share",
    "signed",
    "tested_text",
    "verdict_words",
]
