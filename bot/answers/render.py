"""Render query results as Telegram HTML. Every dynamic value goes through ``html.escape``.

Pure functions from bot/queries' dataclasses to strings, kept apart from the handlers so the
console (which strips the tags) and Telegram show the same words.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence

from bot.answers.views import AlertLine, BreadthView, Change, CpiView, Distance, RatioView, RuleLine, StatusView
from bot.history import Variant
from rules import Rule, TrackRecord, format_move, horizon_label, signed, summary_line

# Telegram's limits, in characters after entity parsing; answers keep some headroom below them.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_TEXT = 4000
_TAG = re.compile(r"<[^>]+>")


def e(value: object) -> str:
    return html.escape(str(value), quote=False)


def to_plain(text: str) -> str:
    """HTML as the console prints it: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Cut a long text at a line break (each line of an answer closes its own tags) so Telegram accepts it.

    Plain text is cut before it is escaped: an entity cut in half makes Telegram refuse the message.
    """
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 2)
    return text[: cut if cut > 0 else limit - 2] + "\n…"


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut an HTML text into messages of at most ``limit`` characters, at line breaks, in order.

    Telegram refuses a longer message outright, so a long digest goes out in parts rather than not
    at all. Each line closes its own tags, so every part is valid HTML, and the parts joined with
    line breaks are the text again. Only a single line longer than a message loses something: its
    tags, and its end (clipped like ``clip``).
    """
    parts: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        if len(line) > limit:
            line = _fit_line(line, limit)
        if lines and size + 1 + len(line) > limit:
            if any(x.strip() for x in lines):  # blank lines alone would be an empty message: dropped
                parts.append("\n".join(lines))
            lines, size = [], 0
        size += len(line) + (1 if lines else 0)
        lines.append(line)
    if any(x.strip() for x in lines) or not parts:
        parts.append("\n".join(lines))
    return parts


def _fit_line(line: str, limit: int) -> str:
    """One over-long HTML line as escaped plain text of at most ``limit`` characters, ending in "…"."""
    plain = to_plain(line)
    n = limit - 1
    while (overflow := len(e(plain[:n])) + 1 - limit) > 0:
        n -= overflow  # escaping lengthened the cut: shorten it by as much
    return e(plain[:n]) + "…"


def alert(key: str, text: str, limit: int = MESSAGE_LIMIT) -> str:
    """An outbox row as every chat (and the console) gets it: the rule in bold, then its text (``alert_body``).
    ``key`` is the row's alert key, "RULE|DAY|KIND", "@digest|…" or "@admin|…"."""
    rule = (key or "").split("|", 1)[0]
    if rule == "@digest":
        return text  # HTML already, split to fit a message when it was queued
    if rule == "@admin":
        return "⚠️ " + e(clip(text, limit - len("⚠️ ")))
    head = f"🔔 {rule}\n" if rule else ""
    body = clip(text, max(limit - len(head), 1))
    return (f"🔔 <b>{e(rule)}</b>\n" if rule else "") + e(body)


def alert_body(message: str, day: dt.date, track: str | None = None) -> str:
    """An alert's plain text as queued: its message, the track-record line, and the day it describes (an
    alert caught up or checked for a past day arrives later than it happened)."""
    return "\n".join([message, *([track] if track else []), f"📅 {day.isoformat()}"])


def _signed(x: float, digits: int) -> str:
    return f"{x:+.{digits}f}"


def _change_lines(changes: Sequence[Change], digits: int, percent_level: bool = False) -> list[str]:
    """A ratio moves by a plain amount (and a relative %); a percentage like breadth moves by points."""
    out = []
    for c in changes:
        if percent_level:
            move, then = f"{_signed(c.change, digits)} pt", f"{c.then:.{digits}f}%"
        else:
            move, then = f"{_signed(c.change, digits)} ({c.pct:+.1f}%)", f"{c.then:.{digits}f}"
        out.append(f"  {e(c.label)}: {move} from {then} on {c.since}")
    return out


def _distance_lines(ds: Sequence[Distance], digits: int, percent_level: bool = False) -> list[str]:
    lines = []
    for d in ds:
        side = "above" if d.distance >= 0 else "below"
        gap = (
            f"{abs(d.distance):.{digits}f} pt {side} {d.line:g}%"
            if percent_level
            else (f"{abs(d.distance):.{digits}f} {side} {d.line:g} ({d.pct:+.1f}%)")
        )
        lines.append(f"  <code>{e(d.rule)}</code> ({e(d.condition)}): {gap}, state {e(d.state)}")
    return lines


def ratio(view: RatioView) -> str:
    lines = [
        f"<b>{e(view.numerator)} / {e(view.denominator)}</b> = <b>{view.value:.4f}</b> on {view.date}",
        "Change:",
        *(_change_lines(view.changes, 4) or ["  not enough history"]),
    ]
    if view.distances:
        lines += ["Distance to rules:", *_distance_lines(view.distances, 4)]
    return "\n".join(lines)


def breadth(views: Sequence[BreadthView]) -> str:
    blocks = []
    for v in views:
        lines = [
            f"<b>{e(v.universe)} breadth</b> ({v.window}-day SMA): <b>{v.value:.1f}%</b> on {v.date}",
            f"  {v.above} of {v.counted} members above; {v.excluded} excluded (too little history or no price)",
            "Change:",
            *(_change_lines(v.changes, 1, percent_level=True) or ["  not enough history"]),
        ]
        if v.distances:
            lines += ["Distance to rule:", *_distance_lines(v.distances, 1, percent_level=True)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


MEASURE_NAMES = {
    "headline_mom": "Headline m/m",
    "headline_yoy": "Headline y/y",
    "core_mom": "Core m/m",
    "core_yoy": "Core y/y",
}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{round(x, 1) + 0.0:.1f}%"  # + 0.0: never "-0.0%"


def cpi(view: CpiView) -> str:
    lines = [f"<b>CPI {e(view.month)}</b> (released {view.release_date})"]
    for m in view.measures:
        if m.surprise is None:
            verdict = "no consensus" if m.expected is None else "n/a"
        elif m.surprise > 0:
            verdict = f"above consensus by {m.surprise:.2f} pt"
        elif m.surprise < 0:
            verdict = f"below consensus by {-m.surprise:.2f} pt"
        else:
            verdict = "in line"
        name = e(MEASURE_NAMES.get(m.measure, m.measure))
        line = f"  {name}: {_pct(m.actual)} vs {_pct(m.expected)} expected — {verdict}"
        if m.expected is None and m.naive_expected is not None:
            line += f" (naive prior-3-month average: {_pct(m.naive_expected)})"
        if m.current is not None:
            line += f"; first published {_pct(m.actual)}, now revised to {_pct(m.current)}"
        lines.append(line)
    lines.append(f"Next release: {view.next_release or 'not in the calendar'}")
    lines.extend(f"<i>{e(n)}</i>" for n in view.notes)
    return "\n".join(lines)


def _when(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return e(value) if value else "never"


def status(view: StatusView) -> str:
    lines = ["<b>Status</b>", "Data:"]
    for s in view.sources:
        err = f" — last error: {e(s.last_error)}" if s.last_error else ""
        lines.append(
            f"  {e(s.source)}: data to {e(s.last_data_date or '?')}, last success {_when(s.last_success)}{err}"
        )
    if not view.sources:
        lines.append("  no fetch recorded yet")
    if view.latest_prices:
        lines.append("  prices: " + ", ".join(f"{e(k)} {e(v)}" for k, v in view.latest_prices.items()))
    run = view.last_run
    lines.append(
        f"Last run: {e(run['kind'])} at {e(run['started_at'])}, {e(run['status'])}" if run else "Last run: none yet"
    )
    if view.next_runs:
        lines.append("Next runs: " + ", ".join(f"{e(k)} {_when(v)}" for k, v in view.next_runs.items()))
    lines.append(f"Rules loaded: {view.rules_loaded} ({view.rules_enabled} enabled)")
    queued = view.outbox.get("pending", 0)
    lines.append(f"Subscribers: {view.subscribers}; alerts queued: {queued}; sent: {view.outbox.get('sent', 0)}")
    lines.append(f"Last error: {e(view.last_error)}" if view.last_error else "Last error: none")
    lines.extend(f"⚠ {e(w)}" for w in view.warnings if w != view.last_error)
    return "\n".join(lines)


def rules(lines_in: Sequence[RuleLine]) -> str:
    if not lines_in:
        return "No rules configured."
    lines = ["<b>Rules</b>"]
    for r in lines_in:
        flag = "" if r.enabled else " (disabled)"
        # The stored state is the last check's: say which day it describes, so it is not read as today's.
        if r.last_day is None:
            state = "<i>not checked yet</i>"
        else:
            value = f" at {r.last_value:.4g}" if r.last_value is not None else ""
            state = f"<i>{e(r.reason or r.state)}</i> — as of {r.last_day}{value}"
        fired = f", last fired {r.fired_at}" if r.fired_at else ""
        noise = f"\n  fires {e(r.noise)}" if r.noise else ""
        lines.append(f"• <code>{e(r.name)}</code>{flag}: {e(r.metric)} {e(r.condition)} — {state}{fired}{noise}")
    return "\n".join(lines)


def alerts(items: Sequence[AlertLine]) -> str:
    if not items:
        return "No alerts yet."
    lines = [f"<b>Last {len(items)} alerts</b>"]
    for a in items:
        mark = "✅" if a.kind == "resolved" else "🔔"
        lines.append(f"{mark} {e(a.date)} <code>{e(a.rule)}</code>: {e(a.message)}")
    return "\n".join(lines)


# --- track records ---------------------------------------------------------------------------

# Telegram messages stop at 4096 characters; the newest firings are the interesting ones.
MAX_FIRINGS_IN_CHAT = 15


def _what(record: TrackRecord) -> str:
    if record.benchmark:
        return f"{record.symbol} minus {record.benchmark}, in points"
    return f"{record.symbol} change, in %"


def _horizon_lines(record: TrackRecord) -> list[str]:
    lines = []
    for s in record.summaries:
        label = horizon_label(s.horizon)
        if s.n == 0:
            lines.append(f"{label}: n = 0 complete ({s.open} open)")
            continue
        opened = f", {s.open} open" if s.open else ""
        lines.append(
            f"{label}: n = {s.n}{opened}; positive after {s.positive} of {s.n}, "
            f"median {format_move(s.median, record.unit)}, best {format_move(s.best, record.unit)}, "
            f"worst {format_move(s.worst, record.unit)}"
        )
    return lines


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
    lines += ["", *_horizon_lines(record)]
    if record.firings:
        table, _ = _firing_table(record, None)
        lines += ["", *table]
    return "\n".join(lines)


def stats_html(record: TrackRecord, rule: Rule | None = None) -> str:
    """HTML for Telegram: the summary, one line per horizon, the latest firings in a <pre> block."""
    e = html.escape
    title = f"<b>{e(record.rule)}</b>"
    if rule:
        title += f"\n{e(rule.describe_metric())} {e(rule.describe_condition())}"
    lines = [title, e(summary_line(record)), f"<i>Forward move: {e(_what(record))}; as of {record.as_of}.</i>", ""]
    lines += [e(x) for x in _horizon_lines(record)]
    if record.firings:
        table, hidden = _firing_table(record, MAX_FIRINGS_IN_CHAT)
        lines += ["", "<pre>" + e("\n".join(table)) + "</pre>"]
        if hidden:
            lines.append(f"(latest {len(table) - 1} of {len(record.firings)} firings; all of them: rotation-bot stats)")
    return "\n".join(lines)


# --- what-if and sweeps -------------------------------------------------------------------------


def variant_json(v: Variant) -> dict[str, object]:
    n, positive, median = v.outcome()
    busiest, year = v.most_in_a_year
    return {
        "label": v.label,
        "edits": v.edits,
        "firings": len(v.firings),
        "most_in_one_year": {"firings": busiest, "year": year},
        "per_year": {str(y): c for y, c in sorted(v.by_year.items())},
        "last_five": [d.isoformat() for d in v.firings[-5:]],
        "since": v.record.since.isoformat() if v.record and v.record.since else None,
        "track": None
        if v.record is None
        else {
            "horizon": v.horizon,
            "n": n,
            "positive": positive,
            "share_positive": round(positive / n, 3) if n else None,
            "median": median,
            "unit": v.record.unit,
        },
        "error": v.error,
    }


def _outcome_cells(v: Variant) -> tuple[str, str]:
    n, positive, median = v.outcome()
    if v.record is None or not n:
        return "n = 0", "–"
    return f"{positive} of {n} ({positive / n:.0%})", f"{format_move(median, v.record.unit)} (n = {n})"


def whatif_table(rule: str, variants: Sequence[Variant]) -> str:
    """The rule as it is and as edited, side by side (plain text for the terminal)."""
    since = next((v.record.since for v in variants if v.record and v.record.since), None)
    head = f"{rule}, replayed from {since}" if since else rule
    label = f"after {horizon_label(variants[0].horizon or 63)}"
    rows: list[tuple[str, ...]] = [("", *(v.label for v in variants))]
    rows.append(("firings", *(str(len(v.firings)) for v in variants)))
    rows.append(("most in one year", *(_busiest(v) for v in variants)))
    rows.append((f"followed by a rise {label}", *(_outcome_cells(v)[0] for v in variants)))
    rows.append((f"median move {label}", *(_outcome_cells(v)[1] for v in variants)))
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
    """One row per swept value: firings, most in one year, hit rate and median forward move with n."""
    label = horizon_label(variants[0].horizon or 63) if variants else "3 months"
    rows = [(*keys, "firings", "most/yr", f"rise after {label}", f"median {label}")]
    for v in variants:
        hit, median = _outcome_cells(v)
        rows.append((*(str(v.edits[k]) for k in keys), str(len(v.firings)), _busiest(v), hit, median))
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    return "\n".join([f"{rule}: sweep of {' × '.join(keys)}", *lines])
