"""The words of evidence: track records, what-ifs and sweeps, each hit rate beside its base rate.

Every "followed by" figure here is shown with the same figure for any day of the same span and
horizon, and a plain verdict (better, worse, no clear difference, too few to tell; rules/evidence.py
computes; this module only words). Plain text for the terminal, HTML for Telegram, dicts for JSON.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.market import Variant
from rules import (
    EDGE,
    POWER_GOAL,
    HorizonSummary,
    Rule,
    TrackRecord,
    format_move,
    horizon_label,
    p_text,
    share,
    signed,
    summary_line,
    verdict_words,
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=False)


# --- track records ---------------------------------------------------------------------------

# Telegram messages stop at 4096 characters; the newest firings are the interesting ones.
MAX_FIRINGS_IN_CHAT = 15


def _what(record: TrackRecord) -> str:
    if record.benchmark:
        return f"{record.symbol} minus {record.benchmark}, in points"
    return f"{record.symbol} change, in %"


def _horizon_lines(record: TrackRecord) -> list[str]:
    """One line per horizon: every complete firing counted, then the sample tested (firings a horizon apart)
    with its hit rate, verdict, median and interval, each beside any day's, so no figure of one sample stands
    beside the test of another."""
    lines = []
    for s in record.summaries:
        label = horizon_label(s.horizon)
        if s.n == 0:
            lines.append(f"{label}: n = 0 complete ({s.open} open)")
            continue
        c = s.chance
        o = c.odds(s.n, s.positive)
        opened = f", {s.open} open" if s.open else ""
        words = verdict_words(o)
        test = f" — {words}" if words else ""
        tested_median = c.tested_median if c.tested_median is not None else s.median
        interval = (
            f"95% interval {format_move(c.median_low, record.unit)} to {format_move(c.median_high, record.unit)}; "
            if c.median_low is not None
            else ""
        )
        if c.independent < s.n:
            head = (
                f"{label}: n = {s.n}{opened}, positive after {s.positive} of {s.n} ({share(s.positive / s.n)}), "
                f"median {format_move(s.median, record.unit)}; tested on the {c.independent} at least {label} apart: "
                f"{c.independent_positive} of {c.independent} ({share(c.independent_positive / c.independent)})"
            )
        else:
            head = f"{label}: n = {s.n}{opened}; positive after {s.positive} of {s.n} ({share(s.positive / s.n)})"
        of = "" if c.independent >= s.n else f" of the {c.independent}"
        lines.append(
            f"{head}; any day {share(c.base_rate)}{test}; median{of} {format_move(tested_median, record.unit)} "
            f"({interval}any day {format_move(c.base_median, record.unit)}), best {format_move(s.best, record.unit)}, "
            f"worst {format_move(s.worst, record.unit)}"
        )
    return lines


def _any_day_note(record: TrackRecord) -> str:
    """What "any day" and the verdicts mean, in two sentences, under every full track record."""
    since = f"since {record.since}" if record.since else "over the same span"
    return (
        f"Any day: the same move from every trading day {since} whose horizon was complete by {record.as_of}. "
        "Better or worse than any day: a binomial test of the firings' hits against that share rejects (p < 0.05 "
        "once adjusted for the horizons tested together), firings closer than the horizon counted once; no clear "
        f"difference: it did not, though it had {POWER_GOAL:.0%} power against a {EDGE * 100:.0f}-pt edge; "
        "too few firings to tell: it had not; the median's interval is a 95% bootstrap."
    )


def _short(h: int) -> str:
    return f"{h // 21}m" if h % 21 == 0 else f"{h}d"


def _cell(m: float | None) -> str:
    return "open" if m is None else signed(m)


def _value(v: float | None) -> str:
    """A metric value in at most 7 characters: 0.4008, 76.22, 1234.5."""
    if v is None:
        return ""
    a = abs(v)
    return f"{v:.4f}" if a < 1 else f"{v:.3f}" if a < 10 else f"{v:.2f}" if a < 100 else f"{v:.1f}"


def _firing_table(record: TrackRecord, limit: int | None) -> tuple[list[str], int]:
    """Fixed-width rows (date, value, one move per horizon); narrow enough for a phone."""
    firings = list(record.firings)
    shown = firings if limit is None else firings[-limit:]
    rows = [f"{'date':<10} {'value':>7}" + "".join(f" {_short(h):>6}" for h in record.horizons)]
    for f in shown:
        rows.append(f"{f.date.isoformat():<10} {_value(f.value):>7}" + "".join(f" {_cell(m):>6}" for m in f.moves))
    return rows, len(firings) - len(shown)


def stats_table(record: TrackRecord, rule: Rule | None = None) -> str:
    """Plain text for the terminal: every firing."""
    title = record.rule + (f" — {rule.describe_metric()} {rule.describe_condition()}" if rule else "")
    lines = [title, summary_line(record), f"Forward move: {_what(record)}; as of {record.as_of}."]
    lines += ["", *_horizon_lines(record), _any_day_note(record)]
    if record.firings:
        table, _ = _firing_table(record, None)
        lines += ["", *table]
    return "\n".join(lines)


def stats_html(record: TrackRecord, rule: Rule | None = None) -> str:
    """HTML for Telegram: the summary, one line per horizon, the latest firings in a <pre> block."""
    e = _e
    title = f"<b>{e(record.rule)}</b>"
    if rule:
        title += f"\n{e(rule.describe_metric())} {e(rule.describe_condition())}"
    lines = [title, e(summary_line(record)), f"<i>Forward move: {e(_what(record))}; as of {record.as_of}.</i>", ""]
    lines += [e(x) for x in _horizon_lines(record)]
    lines.append(f"<i>{e(_any_day_note(record))}</i>")
    if record.firings:
        table, hidden = _firing_table(record, MAX_FIRINGS_IN_CHAT)
        lines += ["", "<pre>" + e("\n".join(table)) + "</pre>"]
        if hidden:
            lines.append(
                f"(latest {len(table) - 1} of {len(record.firings)} firings; all of them: "
                f"`rotation-bot stats {e(record.rule)}`)"
            )
    return "\n".join(lines)


# --- what-if and sweeps -------------------------------------------------------------------------


def _track_json(v: Variant) -> dict[str, object] | None:
    s = v.summary
    if v.record is None or s is None:
        return None
    return {**s.to_dict(), "unit": v.record.unit}


def variant_json(v: Variant) -> dict[str, object]:
    busiest, year = v.most_in_a_year
    return {
        "label": v.label,
        "edits": v.edits,
        "firings": len(v.firings),
        "most_in_one_year": {"firings": busiest, "year": year},
        "per_year": {str(y): c for y, c in sorted(v.by_year.items())},
        "last_five": [d.isoformat() for d in v.firings[-5:]],
        "since": v.record.since.isoformat() if v.record and v.record.since else None,
        "track": _track_json(v),
        "error": v.error,
    }


def _done(v: Variant) -> HorizonSummary | None:
    s = v.summary
    return s if s is not None and s.n else None


def _hits(v: Variant) -> str:
    """ "8 of 9 (89%), tested 6 of 7 (86%)": every complete firing, then the sample tested when it is fewer."""
    s = _done(v)
    if s is None:
        return "n = 0"
    text = f"{s.positive} of {s.n} ({share(s.positive / s.n)})"
    c = s.chance
    if 0 < c.independent < s.n:
        text += (
            f", tested {c.independent_positive} of {c.independent} ({share(c.independent_positive / c.independent)})"
        )
    return text


def _base(v: Variant) -> str:
    s = v.summary
    return share(s.chance.base_rate) if s else "–"


SHORT_VERDICT = {"better": "better", "worse": "worse", "no_difference": "no clear difference", "too_few": "too few"}


def _verdict(v: Variant) -> str:
    """ "too few (p = 0.72)": the row's verdict against any day's share, in a word or two."""
    s = _done(v)
    if s is None or s.chance.verdict is None:
        return "–"
    o = s.chance.odds(s.n, s.positive)
    return f"{SHORT_VERDICT[s.chance.verdict]} ({p_text(o.p)})"


def _median(v: Variant) -> str:
    s = _done(v)
    if s is None or v.record is None:
        return "–"
    c = s.chance
    if c.tested_median is not None and c.independent < s.n:  # the median of the sample tested, as its interval is
        return f"{format_move(c.tested_median, v.record.unit)} (n = {c.independent} apart)"
    return f"{format_move(s.median, v.record.unit)} (n = {s.n})"


def _interval(v: Variant) -> str:
    s = _done(v)
    if s is None or v.record is None or s.chance.median_low is None:
        return "–"
    return f"{signed(s.chance.median_low)} to {signed(s.chance.median_high or 0.0)}"


def _base_median(v: Variant) -> str:
    s = v.summary
    return format_move(s.chance.base_median, v.record.unit) if s and v.record else "–"


def whatif_table(rule: str, variants: Sequence[Variant]) -> str:
    """The rule as it is and as edited, side by side (plain text for the terminal), each beside any day."""
    since = next((v.record.since for v in variants if v.record and v.record.since), None)
    head = f"{rule}, replayed from {since}" if since else rule
    label = f"after {horizon_label(variants[0].horizon or 63)}"
    rows: list[tuple[str, ...]] = [("", *(v.label for v in variants))]
    rows.append(("firings", *(str(len(v.firings)) for v in variants)))
    rows.append(("most in one year", *(_busiest(v) for v in variants)))
    rows.append((f"followed by a rise {label}", *(_hits(v) for v in variants)))
    rows.append(("  on any day", *(_base(v) for v in variants)))
    rows.append(("  verdict", *(_verdict(v) for v in variants)))
    rows.append((f"median move {label}", *(_median(v) for v in variants)))
    rows.append(("  95% interval", *(_interval(v) for v in variants)))
    rows.append(("  on any day", *(_base_median(v) for v in variants)))
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [head, *("  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in rows)]
    for v in variants:
        dates = ", ".join(d.isoformat() for d in v.firings[-5:]) or "none"
        lines.append(f"last five ({v.label}): {dates}" + (f"  [{v.error}]" if v.error else ""))
    return "\n".join(lines)


def _busiest(v: Variant) -> str:
    n, year = v.most_in_a_year
    return f"{n} ({year})" if year else "0"


def sweep_table(rule: str, keys: Sequence[str], variants: Sequence[Variant]) -> str:
    """One row per swept value: firings, most in one year, hit rate against any day's and the test, median
    forward move with n and its interval."""
    label = horizon_label(variants[0].horizon or 63) if variants else "3 months"
    rows = [
        (
            *keys,
            "firings",
            "most/yr",
            f"rise after {label}",
            "any day",
            "verdict",
            f"median {label}",
            "95% interval",
        )
    ]
    for v in variants:
        rows.append(
            (
                *(str(v.edits[k]) for k in keys),
                str(len(v.firings)),
                _busiest(v),
                _hits(v),
                _base(v),
                _verdict(v),
                _median(v),
                _interval(v),
            )
        )
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    base = next((v.summary for v in variants if v.summary is not None), None)
    note = []
    if base is not None and base.chance.base_median is not None and variants[0].record is not None:
        unit = variants[0].record.unit
        note = [
            f"On any day of the span: a rise after {label} {share(base.chance.base_rate)} of the time, median "
            f"{format_move(base.chance.base_median, unit)}. {len(variants)} values tried: each p is adjusted for "
            "all of them (Benjamini–Hochberg), and a row is better or worse than any day only when that is below "
            f"0.05; 'too few' when the test had under {POWER_GOAL:.0%} power against a {EDGE * 100:.0f}-pt edge."
        ]
    return "\n".join([f"{rule}: sweep of {' × '.join(keys)} ({len(variants)} values tried)", *lines, *note])
