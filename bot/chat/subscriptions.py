"""What a chat receives: subscribing and muting (and, with them, silences and routing)."""

from __future__ import annotations

import datetime as dt

from bot.chat.base import CommandContext, Reply, UsageError, no_args, parse_duration
from bot.store import outbox


async def cmd_subscribe(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    if outbox.subscribe(ctx.store, ctx.chat_id):
        return Reply("✅ Subscribed: this chat will get every alert. /unsubscribe stops them, /mute pauses them.")
    return Reply("This chat is already subscribed.")


async def cmd_unsubscribe(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    if outbox.unsubscribe(ctx.store, ctx.chat_id):
        return Reply("Unsubscribed: no more alerts here. /subscribe brings them back.")
    return Reply("This chat was not subscribed.")


async def cmd_mute(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    try:
        span = parse_duration(args[0])
    except ValueError:
        raise UsageError from None
    until = dt.datetime.now(dt.UTC) + span
    if not outbox.mute(ctx.store, ctx.chat_id, until):
        return Reply("This chat is not subscribed: /subscribe first.")
    return Reply(f"🔕 Muted until {until:%Y-%m-%d %H:%M} UTC. Alerts wait in the queue; /unmute sends them now.")


async def cmd_unmute(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    if outbox.unmute(ctx.store, ctx.chat_id):
        return Reply("🔔 Unmuted: queued alerts follow shortly.")
    return Reply("This chat is not muted.")
