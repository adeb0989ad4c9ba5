"""What a chat receives: subscribing (to every rule or some), muting, and silencing one rule for a while.

Routing decides what is queued for a chat at all; a mute holds the queue back and delivers it afterwards;
a silence drops one rule's alerts for this chat until it expires (they stay recorded, nothing comes later).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.answers import e, route_text, silences_html, subscription_html
from bot.chat.base import CommandContext, Reply, UsageError, duration_arg, no_args
from bot.config import Config
from bot.errors import BotError
from bot.store import chats

MAX_REASON = 200  # characters of a silence's reason that are kept
_FLOOR = re.compile(r"^severity>=(.*)$", re.IGNORECASE)


def _shown(text: str, limit: int = 40) -> str:
    """A name as a reply quotes it: a chat may type anything, and a reply must stay one short line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rule_names(config: Config, args: list[str]) -> list[str]:
    """The config's names for ``args`` (exact, else ignoring case), in order, once each.

    Any unknown name refuses them all, naming the known rules: nothing is changed by half.
    """
    exact = {r.name: r.name for r in config.rules}
    folded = {r.name.lower(): r.name for r in config.rules}
    names: list[str] = []
    unknown: list[str] = []
    for a in args:
        name = exact.get(a) or folded.get(a.lower())
        if name is None:
            unknown.append(_shown(a))
        elif name not in names:
            names.append(name)
    if unknown:
        known = ", ".join(exact) or "none"
        which = "rule" if len(unknown) == 1 else "rules"
        raise BotError(f"Unknown {which} {', '.join(unknown)}; known rules: {known}. Nothing changed.")
    return names


def parse_route(config: Config, args: list[str]) -> chats.Route:
    """``RULE…`` and/or ``severity>=LEVEL`` (also ``severity >= LEVEL``) → the route; no arguments: every rule."""
    tokens = re.sub(r"(?i)\bseverity\s*>=\s*", "severity>=", " ".join(args)).split()
    floors = [m.group(1).lower() for t in tokens if (m := _FLOOR.match(t))]
    if len(floors) > 1:
        raise UsageError
    if floors and floors[0] not in chats.SEVERITIES:
        levels = ", ".join(f"severity>={s}" for s in chats.SEVERITIES)
        raise BotError(f"Unknown severity {_shown(floors[0])!r}: use {levels}. Nothing changed.")
    names = rule_names(config, [t for t in tokens if not _FLOOR.match(t)])
    return chats.Route(tuple(names) if names else None, floors[0] if floors else None)


async def cmd_subscribe(ctx: CommandContext, args: list[str]) -> Reply:
    route = parse_route(ctx.config, args)
    before = chats.route(ctx.store, ctx.chat_id)
    what = e(route_text(route))
    empty = route.shown(ctx.config.rules) == ()
    none = "\n⚠ No rule in the config matches that yet: nothing will arrive." if empty else ""
    if chats.subscribe(ctx.store, ctx.chat_id, route):
        return Reply(f"✅ Subscribed: this chat will get {what}. /unsubscribe stops them, /mute pauses them.{none}")
    if before == route:
        return Reply(f"This chat is already subscribed to {what}.{none}")
    return Reply(f"✅ Changed: this chat now gets {what}. /subscriptions shows everything it receives.{none}")


async def cmd_unsubscribe(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    if chats.unsubscribe(ctx.store, ctx.chat_id):
        return Reply("Unsubscribed: no more alerts here. /subscribe brings them back.")
    return Reply("This chat was not subscribed.")


async def cmd_subscriptions(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    now = dt.datetime.now(dt.UTC)
    store, chat = ctx.store, ctx.chat_id
    route = chats.route(store, chat)
    known = {r.name for r in ctx.config.rules}
    text = subscription_html(
        subscribed=chat in chats.subscribers(store),
        route=route,
        muted_until=chats.muted_until(store, chat, now),
        silences=chats.silences(store, chat, now),
        reaching=route.shown(ctx.config.rules),
        own_rules=[r.name for r in ctx.config.rules if r.spec.chats is not None and chat in r.spec.chats],
        unknown=[n for n in route.rules or () if n not in known],
        now=now,
    )
    return Reply(text)


async def cmd_mute(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    span = duration_arg(args[0])
    until = dt.datetime.now(dt.UTC) + span
    if not chats.mute(ctx.store, ctx.chat_id, until):
        return Reply("This chat is not subscribed: /subscribe first.")
    return Reply(f"🔕 Muted until {until:%Y-%m-%d %H:%M} UTC. Alerts wait in the queue; /unmute sends them now.")


async def cmd_unmute(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    if chats.unmute(ctx.store, ctx.chat_id):
        return Reply("🔔 Unmuted: queued alerts follow shortly.")
    return Reply("This chat is not muted.")


async def cmd_silence(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) < 2:
        raise UsageError
    span = duration_arg(args[1])
    (rule,) = rule_names(ctx.config, args[:1])
    reason = " ".join(args[2:]).strip()[:MAX_REASON]
    until = dt.datetime.now(dt.UTC) + span
    chats.silence(ctx.store, ctx.chat_id, rule, until, reason)
    return Reply(
        f"🔇 {e(rule)} silenced here until {until:%Y-%m-%d %H:%M} UTC: its alerts are recorded but not sent "
        f"to this chat, not even afterwards. /unsilence {e(rule)} ends it now."
    )


async def cmd_silences(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    now = dt.datetime.now(dt.UTC)
    return Reply(silences_html(chats.silences(ctx.store, ctx.chat_id, now), now))


async def cmd_unsilence(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    now = dt.datetime.now(dt.UTC)
    active = {s.rule for s in chats.silences(ctx.store, ctx.chat_id, now)}  # a rule since removed, too
    (rule,) = args if args[0] in active else rule_names(ctx.config, args)
    if chats.unsilence(ctx.store, ctx.chat_id, rule, now):
        return Reply(f"🔔 {e(rule)} is no longer silenced here: its next alerts come through.")
    return Reply(f"{e(rule)} is not silenced in this chat.")
