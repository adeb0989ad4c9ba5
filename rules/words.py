"""How a track record reads: the words shared by the alert line, ``stats``, what-ifs and ``rules list``.

No pandas here: ``rules list`` words a cached record (its JSON) without loading the engine, and
the alert line words a fresh one (``summary_line`` in rules/track.py, beside the record it reads);
both go through ``odds_phrase`` so they say the same thing.
The phrase always carries the base rate beside the hit rate and says in plain words whether the
difference is more than chance (the test itself is rules/evidence.py).
"""

from __future__ import annotations

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


def verdict_words(verdict: str | None, p: float | None) -> str:
    """ "no better than chance", or "better than chance (p = 0.012)"; "" when there is nothing to test."""
    if verdict == "chance":
        return "no better than chance"
    if verdict in ("better", "worse"):
        return f"{verdict} than chance ({p_text(p)})"
    return ""


def odds_phrase(
    positive: int,
    n: int,
    base_rate: float | None,
    verdict: str | None,
    p: float | None,
    independent: int,
    horizon: int,
    noun: str = "firing",
) -> str:
    """ "4 of 7 firings (57%); on any day: 47% — no better than chance", noting firings counted once."""
    text = f"{positive} of {n} {noun}{'' if n == 1 else 's'} ({share(positive / n if n else None)})"
    text += f"; on any day: {share(base_rate)}"
    words = verdict_words(verdict, p)
    if words:
        text += f" — {words}"
        if independent < n:
            text += f" (tested on the {independent} at least {horizon_label(horizon)} apart)"
    return text


def headline_horizon(horizons: tuple[int, ...]) -> int:
    """The horizon one-line summaries quote: 3 months when tracked, else the middle one."""
    return 63 if 63 in horizons else horizons[len(horizons) // 2]


__all__ = [
    "format_move",
    "headline_horizon",
    "horizon_label",
    "odds_phrase",
    "p_text",
    "share",
    "signed",
    "verdict_words",
]
