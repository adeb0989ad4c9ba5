"""What a chat receives, as text: its subscription and route, its mute, its silences (/subscriptions, /silences).

Kept beside render.py rather than in it so each stays short; the words are the same in Telegram and the console.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.answers.render import e, echo
from bot.store import chats


def route_text(route: chats.Route) -> str:
    """ "every alert", "rules a, b", "alerts of severity warning or above", or both joined."""
    if route.everything:
        return "every alert"
    parts = []
    if route.rules is not None:
        parts.append(f"rules {', '.join(route.rules)}")
    if route.min_severity is not None:
        parts.append(f"severity {route.min_severity} or above")
    return f"alerts of {' with '.join(parts)}"


def _left(until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, round((until - now).total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def silence_line(s: chats.Silence, now: dt.datetime) -> str:
    reason = f" — {echo(s.reason)}" if s.reason else ""  # typed by the chat
    return f"  • {e(s.rule)} until {s.until:%Y-%m-%d %H:%M} UTC (in {_left(s.until, now)}){reason}"


def silences_html(silences: Sequence[chats.Silence], now: dt.datetime) -> str:
    if not silences:
        return "No silences in this chat. /silence RULE DURATION stops one rule's alerts for a while."
    return "\n".join(["<b>Silences in this chat</b>", *(silence_line(s, now) for s in silences)])


def subscription_html(
    subscribed: bool,
    route: chats.Route,
    reaching: Sequence[str] | None,
    muted_until: dt.datetime | None,
    silences: Sequence[chats.Silence],
    own_rules: Sequence[str],
    unknown: Sequence[str],
    now: dt.datetime,
) -> str:
    """The truth about one chat: what is queued for it, what is held, what is silenced.

    ``reaching`` is the config's rules the route lets through (None: every rule); ``own_rules`` are rules
    whose ``chats`` name this chat (they come whatever the route); ``unknown`` are routed rule names the
    config no longer has.
    """
    lines = ["<b>Alerts in this chat</b>"]
    if subscribed:
        lines.append(f"Subscribed: {e(route_text(route))}.")
        if reaching is not None and route.rules != tuple(reaching):
            lines.append(f"That is, today: {e(', '.join(reaching)) or 'no rule in the config'}.")
    else:
        lines.append("Not subscribed: /subscribe for every alert, /subscribe RULE… or severity&gt;=LEVEL for some.")
    if unknown:
        lines.append(f"⚠ No longer in the config: {e(', '.join(unknown))}.")
    if own_rules:
        lines.append(f"Also sent here by their own <code>chats</code>: {e(', '.join(own_rules))}.")
    if muted_until is not None:
        lines.append(f"🔕 Muted until {muted_until:%Y-%m-%d %H:%M} UTC (alerts wait in the queue).")
    else:
        lines.append("Not muted.")
    if silences:
        lines.append("Silenced (not delivered, not even later):")
        lines += [silence_line(s, now) for s in silences]
    else:
        lines.append("No silences.")
    return "\n".join(lines)
