"""Render query results as Telegram HTML. Every dynamic value goes through ``html.escape``.

Pure functions from the dataclasses of views.py to strings, kept apart from the handlers so the
console (which strips the tags) and Telegram show the same words.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence

from bot.answers.digest import Digest
from bot.answers.status import StatusView
from bot.answers.views import AlertLine, BreadthView, Change, CpiView, Distance, RatioView, RuleLine
from bot.store import outbox
from bot.values import short

# Telegram's limits, in characters after entity parsing; answers keep some headroom below them.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_TEXT = 4000
_TAG = re.compile(r"<[^>]+>")
# Said where people first look (/start, /help, the README): the figures are history, not a recommendation.
DISCLAIMER = (
    "Not investment advice: alerts say what the market data shows now, and track records what followed "
    "in the past, beside any day; neither says what comes next."
)


def e(value: object) -> str:
    return html.escape(str(value), quote=False)


def echo(value: object, quote: bool = False) -> str:
    """What a chat typed, or a message quoting it (an error, a usage line), as a reply shows it: HTML-escaped, and
    each character that would render invisibly or turn the line around (controls, U+202E and the other bidi
    marks, zero-width and odd spaces) written as its escape, ``evil\\u202ex``, as /stats's repr already did.

    Every echo of user input goes through here; a line break stays one. ``quote``: escape quotes too (a diff).
    """
    text = str(value)
    if not text.isprintable():
        text = "".join(c if c == "\n" or c.isprintable() else ascii(c)[1:-1] for c in text)
    return html.escape(text, quote=quote)


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


def visible_length(text: str) -> int:
    """The length Telegram holds an HTML text to: after entity parsing, so without tags and with entities decoded."""
    return len(to_plain(text))


_OPEN_CLOSE = re.compile(r"<(/?)([a-z][\w-]*)[^>]*>")


def fit_html(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """An HTML answer as Telegram takes it: whole when it fits ``limit`` as Telegram counts (after entity parsing),
    else cut after the last line that fits, with the tags still open there (a <pre> block) closed, and "…".

    The cut is never inside a tag or an entity: a first line longer than the limit becomes escaped plain text
    (``_fit_line``), so an echoed argument of 4000 ``&`` is cut between two ``&amp;``, not in one.
    """
    if visible_length(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        size += visible_length(line) + (1 if kept else 0)
        if size > limit - 2:  # room for "\n…"
            break
        kept.append(line)
    if not kept:
        return _fit_line(text.split("\n", 1)[0], limit)
    head = "\n".join(kept)
    open_tags: list[str] = []
    for m in _OPEN_CLOSE.finditer(head):
        if not m.group(1):
            open_tags.append(m.group(2))
        elif open_tags and open_tags[-1] == m.group(2):
            open_tags.pop()
    return head + "".join(f"</{tag}>" for tag in reversed(open_tags)) + "\n…"


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
    n = size = 0
    for char in plain:  # the longest start whose escaped form leaves room for "…" (an "&" takes five)
        size += len(e(char))
        if size > limit - 1:
            break
        n += 1
    return e(plain[:n]) + "…"


def alert(key: str, text: str, limit: int = MESSAGE_LIMIT) -> str:
    """An outbox row as every chat (and the console) gets it: the rule in bold, then its text (``alert_body``).
    ``key`` is the row's alert key, "RULE|DAY|KIND", "@digest|…" or "@admin|…"."""
    rule = (key or "").split("|", 1)[0]
    if rule == outbox.DIGEST:
        return text  # HTML already, split to fit a message when it was queued
    if rule == outbox.ADMIN:
        return "⚠️ " + e(clip(text, limit - len("⚠️ ")))
    head = f"🔔 {rule}\n" if rule else ""
    body = clip(text, max(limit - len(head), 1))
    return (f"🔔 <b>{e(rule)}</b>\n" if rule else "") + e(body)


def alert_html(row: outbox.OutboxRow, limit: int = MESSAGE_LIMIT) -> str:
    """An outbox row as the chat sees it, and so as the console prints it: the one rendering of a queued row."""
    return alert(row.alert_key or "", row.text, limit)


def delivery_paused(store: object, error: str, held: int) -> str:
    """The admins' notice that the store cannot record sends (sent directly: the outbox cannot take it)."""
    return (
        f"⚠️ <b>Alert delivery paused</b>: the store <code>{html.escape(str(store))}</code> cannot record"
        f" sends (<code>{html.escape(error)}</code>). {held} message(s) Telegram accepted are"
        " held in memory and will not be sent again; nothing else is sent until the store is writable"
        " (check disk space and the file's permissions), then delivery resumes by itself. A restart before"
        " then sends those messages once more."
    )


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
    if view.latest_by_symbol:
        lines.append("  prices: " + ", ".join(f"{e(k)} {e(v)}" for k, v in view.latest_by_symbol.items()))
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


def _level(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f}%".replace("-", "−")
    if unit == "pt":
        return f"{v:+.2f} pt".replace("-", "−")
    return short(v)


def _move(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("%", "pt"):
        return f"{v:+.1f} pt".replace("-", "−") if round(v, 1) else "0.0 pt"
    return f"{v:+.3g}".replace("-", "−") if v else "0"


def digest(d: Digest) -> str:
    """The digest as HTML, one closed line after another (the console strips the tags), so
    ``split_message`` can cut it anywhere between lines. Quotes are escaped too, as they always were."""
    q = html.escape
    scope = "For this chat: all rules" if d.only is None else f"For this chat: rules {q(', '.join(d.only)) or 'none'}"
    if not d.rules or d.as_of is None:
        why = "No rules are enabled." if d.only is None else "No enabled rule reaches this chat (/subscriptions)."
        return f"<b>Daily digest</b>\n{scope}\n{why}"
    lines = [f"<b>Daily digest — {d.as_of}</b>", scope]
    for b in d.blocks:
        if (line := b.line) is None:
            continue
        when = "" if line.date == d.as_of else f" on {line.date}"
        if b.counted is not None:
            when += f" ({b.counted} counted, {b.excluded} excluded)"
        if b.events:  # a CPI surprise is monthly: compare with the previous release, not a day
            moves = f"  previous release {q(_move(line.day, line.unit))}"
        else:
            moves = f"  day {q(_move(line.day, line.unit))}, week {q(_move(line.week, line.unit))}"
        lines += ["", f"<b>{q(line.label)}</b>: {q(_level(line.value, line.unit))}{q(when)}\n{moves}"]
        lines += [f"  • {q(r.name)}: {q(r.distance)} ({q(r.state)})" for r in b.rules]
    lines += ["", f"<b>Pending:</b> {q(', '.join(d.pending)) if d.pending else 'none'}"]
    lines.append(f"<b>Alerts today:</b> {len(d.alerts) if d.alerts else 'none'}")
    lines += [f"  • {q(a.rule)}: {q(a.message)}" + ("" if a.sent else " (not yet sent)") for a in d.alerts]
    warnings = [n.text for n in d.errors] + [b.stale for b in d.blocks if b.stale] + [n.text for n in d.warnings]
    if warnings:
        lines.append("<b>⚠ Stale or missing data:</b>")
        lines += [f"  • {q(w)}" for w in dict.fromkeys(warnings)]
    return "\n".join(lines)
