"""The rotation answer in words: plain text for the terminal, HTML for Telegram, a dict for JSON.

One question, three parts, in the order a reader asks: how big is the move now; where does each of the
column's signals stand in its own history; and what followed every earlier rotation of this size, beside
what any day gave (so "it continued 4 times out of 7" is never read without "and so did any day, 47%").
"""

from __future__ import annotations

import html
from typing import Any

from bot.market import RotationView
from rules import (
    Episode,
    HorizonSummary,
    Move,
    format_move,
    horizon_label,
    odds_phrase,
    outcome_word,
    signed,
    tested_text,
    verdict_words,
)

MAX_PRECEDENTS_IN_CHAT = 12  # Telegram's 4096 characters; the newest precedents are the relevant ones
MEASURES = {
    "headline_mom": "headline MoM",
    "headline_yoy": "headline YoY",
    "core_mom": "core MoM",
    "core_yoy": "core YoY",
}


def _pct(x: float) -> str:
    return f"{signed(x)}%"


def _level(x: float) -> str:
    """A CPI figure: 3.0% / −0.1% (a real minus, no plus sign: a level, not a move)."""
    return f"{x:.1f}%".replace("-", "−")


def _move(m: Move) -> str:
    return f"Russell 2000 {_pct(m.lead)}, S&P 500 {_pct(m.lag)}: gap {format_move(m.gap, 'pt')}"


def _short(h: int) -> str:
    return f"{h // 21}m" if h % 21 == 0 else f"{h}d"


def move_lines(v: RotationView) -> list[str]:
    m = v.move
    lines = [f"The move now, {m.start} → {m.end} ({m.days} trading days): {_move(m)}."]
    lines += [f"  last {w.days} days: {_move(w)}" for w in v.windows]
    if v.current is not None:
        c = v.current
        lines.append(
            f"  A rotation under way: the Russell 2000 first led by {v.min_gap:g} pt within {v.max_days} trading "
            f"days on {c.detected} (widest so far {format_move(c.move.gap, 'pt')}, on {c.move.end})."
        )
    elif v.precedents and v.precedents[-1].given_back:  # held lately, but the lead since its start is gone
        p = v.precedents[-1]
        lines.append(
            f"  No rotation under way: the one known on {p.detected} (widest {format_move(p.move.gap, 'pt')}, on "
            f"{p.move.end}) has been given back in full since {p.move.start}."
        )
    else:
        lines.append(
            f"  No rotation under way: the Russell 2000 has not led by {v.min_gap:g} pt within {v.max_days} "
            "trading days lately."
        )
    return lines


def _above(pct: float) -> str:
    return f"higher than on {pct:.0f}% of days"


def signal_lines(v: RotationView) -> list[str]:
    r = v.ratio
    lines = [f"Russell 2000 / S&P 500: {r.value:.4f} on {r.date} — {_above(r.percentile)} since {r.since.year}"]
    for key, dist in r.extra.items():
        if key.startswith("distance_to_") and isinstance(dist, float):
            lines[-1] += f"; {dist:+.4f} from {key.removeprefix('distance_to_')}"
    peak, when = r.extra.get("peak_since_2020"), r.extra.get("peak_since_2020_date")
    if isinstance(peak, float):
        lines[-1] += f"; post-2020 peak {peak:.4f} on {when} ({_pct((r.value / peak - 1) * 100)} from it)"
    b = v.breadth
    if b is not None:
        lines.append(
            f"Breadth ({b.extra['universe']}, above the {b.extra['window']:.0f}-day average): {b.value:.1f}% on "
            f"{b.date} — {_above(b.percentile)} since {b.since.year}"
        )
    q = v.equal_weight
    if q is not None:
        where = "above" if q.value >= 0 else "below"
        lines.append(
            f"Equal- vs cap-weight (RSP/SPY): {abs(q.value):.1f}% {where} its 200-day average on {q.date} — "
            f"{_above(q.percentile)} since {q.since.year}"
        )
    if v.cpi is not None:
        lines.append(_cpi_line(v.cpi))
    lines += [f"{name}: not available ({why})" for name, why in v.missing.items()]
    return lines


def _cpi_line(cpi: dict[str, Any]) -> str:
    latest, measures = cpi["latest"], cpi["measures"]
    parts, below, above, judged = [], 0, 0, 0
    for key, m in measures.items():
        if m["actual"] is None:
            continue
        if m["surprise"] is None:
            parts.append(f"{MEASURES[key]} {_level(m['actual'])} (no consensus)")
            continue
        judged += 1
        below += m["surprise"] < 0
        above += m["surprise"] > 0
        parts.append(f"{MEASURES[key]} {_level(m['actual'])} vs {_level(m['expected'])}")
    verdict = f"below consensus on {below} of {judged}, above on {above}" if judged else "no consensus"
    return f"CPI {latest['month']} (released {latest['release_date']}): {verdict} — {', '.join(parts)}"


def _after(e: Episode, m: float | None) -> str:
    return "open" if m is None else f"{signed(m)} {outcome_word(m, e.gap_at_detection)}"


def precedent_rows(v: RotationView, limit: int | None = None, compact: bool = False) -> list[str]:
    """One row per earlier rotation; ``compact`` (a phone): when it became known, its gap, and what followed."""
    moves = {f.date: f.moves for f in v.record.firings}
    shown = v.precedents if limit is None else v.precedents[-limit:]
    if compact:
        rows = [f"{'known':<10} {'gap':>5}" + "".join(f" {_short(h):>5}" for h in v.record.horizons)]
        for e in shown:
            after = "".join(f" {'open' if x is None else signed(x):>5}" for x in moves.get(e.detected, ()))
            rows.append(f"{e.detected!s:<10} {signed(e.move.gap):>5}{after}")
        return rows
    head = f"{'start':<10}  {'known':<10}  {'peak':<10}  {'days':>4}  {'R2000':>7}  {'S&P':>7}  {'gap':>6}"
    head += "".join(f"  {'after ' + _short(h):<18}" for h in v.record.horizons)
    rows = [head.rstrip()]
    for e in shown:
        m = e.move
        row = f"{m.start!s:<10}  {e.detected!s:<10}  {m.end!s:<10}  {m.days:>4}  {_pct(m.lead):>7}  {_pct(m.lag):>7}"
        row += f"  {signed(m.gap):>6}" + "".join(f"  {_after(e, x):<18}" for x in moves.get(e.detected, ()))
        rows.append(row.rstrip())
    return rows


def _followed(s: HorizonSummary) -> str:
    c = s.chance
    odds = odds_phrase(c.odds(s.n, s.positive), s.horizon, "rotation")
    tested = c.tested_median if c.tested_median is not None and c.independent < s.n else s.median
    of = f" of the {c.independent}" if c.independent < s.n else ""
    med = f"median{of} {format_move(tested, 'pt')}"
    if c.median_low is not None:
        med += f" (95% interval {signed(c.median_low)} to {signed(c.median_high or 0.0)})"
    med += f"; any day {format_move(c.base_median, 'pt')}"
    return f"{horizon_label(s.horizon)}: the Russell 2000 kept beating the S&P 500 after {odds}; {med}"


def followed_lines(v: RotationView) -> list[str]:
    lines = []
    for s in v.record.summaries:
        if s.n == 0:
            lines.append(
                f"{horizon_label(s.horizon)}: no earlier rotation has a full {horizon_label(s.horizon)} behind it"
            )
        else:
            lines.append(_followed(s) + (f" ({s.open} still open)" if s.open else ""))
    return lines


def answer(v: RotationView) -> str:
    """The one sentence: does history say this rotation continues?"""
    h = 63 if 63 in v.record.horizons else v.record.horizons[0]
    s = v.record.summary(h)
    if s.n == 0:
        return "No earlier rotation of this size has a full 3 months behind it: history cannot say."
    c = s.chance
    o = c.odds(s.n, s.positive)
    head = (
        f"After the earlier rotations of at least {v.min_gap:g} pt within {v.max_days} days "
        f"({tested_text(o, h, 'rotation')}), the Russell 2000 kept beating the S&P 500 over the next "
        f"{horizon_label(h)}; on any day it did {c.base_rate:.0%} of the time"
        if c.base_rate is not None
        else f"After {s.n} earlier rotations, the Russell 2000 kept leading in {s.positive}"
    )
    words = verdict_words(o, "rotation")
    if o.verdict == "better":
        return f"{head}: {words}, so past rotations tended to continue."
    if o.verdict == "worse":
        return f"{head}: {words}, so past rotations tended to reverse."
    if o.verdict == "no_difference":
        return f"{head}: {words}, so history does not favour either way."
    return f"{head}: {words}, so history cannot say either way."


def _header(v: RotationView) -> str:
    later = f" (the last close of both indices by {v.asked}: every line is as of it)" if v.asked else ""
    return f"Can the small-cap rotation continue? As of the close of {v.as_of}{later}."


def rotation_text(v: RotationView) -> str:
    title = (
        f"Every earlier rotation ({len(v.precedents)} since {v.record.since.year if v.record.since else '–'}: "
        f"the Russell 2000 beat the S&P 500 by at least {v.min_gap:g} pt within {v.max_days} trading days; "
        "'after' is measured from the day it became known, in points):"
    )
    return "\n".join(
        [
            _header(v),
            "",
            *move_lines(v),
            "",
            "Each signal against its own history:",
            *(f"  {x}" for x in signal_lines(v)),
            "",
            title,
            *precedent_rows(v),
            "",
            "What followed, against any day:",
            *(f"  {x}" for x in followed_lines(v)),
            "",
            answer(v),
        ]
    )


def rotation_html(v: RotationView) -> str:
    e = _e
    rows = precedent_rows(v, MAX_PRECEDENTS_IN_CHAT, compact=True)
    hidden = len(v.precedents) - (len(rows) - 1)
    lines = [f"<b>{e(_header(v))}</b>", "", *(e(x) for x in move_lines(v)), "", "<b>Signals</b>"]
    lines += [f"• {e(x)}" for x in signal_lines(v)]
    lines += ["", f"<b>Earlier rotations</b> ({len(v.precedents)}: the day each became known, its gap and what it"]
    lines[-1] += " did after, in points)"
    lines.append("<pre>" + e("\n".join(rows)) + "</pre>")
    if hidden > 0:
        lines.append(f"(latest {len(rows) - 1} of {len(v.precedents)}; all of them: `rotation-bot rotation`)")
    lines += ["", "<b>What followed, against any day</b>", *(f"• {e(x)}" for x in followed_lines(v))]
    lines += ["", f"<b>{e(answer(v))}</b>"]
    return "\n".join(lines)


def _e(value: object) -> str:
    return html.escape(str(value), quote=False)


def _move_json(m: Move) -> dict[str, Any]:
    return {
        "start": m.start.isoformat(),
        "end": m.end.isoformat(),
        "days": m.days,
        "rut_pct": m.lead,
        "spx_pct": m.lag,
        "gap": m.gap,
    }


def _episode_json(e: Episode, moves: tuple[float | None, ...], horizons: tuple[int, ...]) -> dict[str, Any]:
    return {
        **_move_json(e.move),
        "detected": e.detected.isoformat(),
        "gap_at_detection": e.gap_at_detection,
        "last": e.last.isoformat(),
        "given_back": e.given_back,
        "after": {
            str(h): {"move": x, "outcome": outcome_word(x, e.gap_at_detection)}
            for h, x in zip(horizons, moves, strict=True)
        },
    }


def _reading_json(r: Any) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"date": r.date.isoformat(), "value": r.value, "percentile": r.percentile, "since": r.since.isoformat()} | {
        k: v for k, v in r.extra.items()
    }


def rotation_json(v: RotationView) -> dict[str, Any]:
    """Every figure of the answer; ``followed`` carries the base rates (``base_*``) beside the precedents'."""
    moves = {f.date: f.moves for f in v.record.firings}
    hs = v.record.horizons
    record = v.record.to_dict()
    return {
        "as_of": v.as_of.isoformat(),
        "asked": None if v.asked is None else v.asked.isoformat(),
        "min_gap": v.min_gap,
        "max_days": v.max_days,
        "move": _move_json(v.move),
        "windows": [_move_json(w) for w in v.windows],
        "current": None if v.current is None else _episode_json(v.current, (None,) * len(hs), hs),
        "signals": {
            "ratio": _reading_json(v.ratio),
            "breadth": _reading_json(v.breadth),
            "equal_weight": _reading_json(v.equal_weight),
            "cpi": v.cpi,
        },
        "missing": v.missing,
        "precedents": [_episode_json(e, moves[e.detected], hs) for e in v.precedents],
        "followed": record["summaries"],
        "answer": answer(v),
    }
