"""The questions: what the bot shows about the market and the rules (views rendered once, in bot/answers)."""

from __future__ import annotations

from bot.answers import e, echo, render, render_chart, rotation_chart, rotation_html, stats_html, status_view, views
from bot.calendar import CHART_PERIODS
from bot.chat.base import MAX_ALERTS, CommandContext, Reply, UsageError, date_arg, no_args, off_loop
from bot.config import find_rule
from bot.jobs import digest_text
from bot.market import rotation_view, track_record_for
from bot.store import Store, chats


async def cmd_ratio(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    return Reply(render.ratio(views.ratio_view(ctx.store, ctx.config)))


async def cmd_breadth(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    return Reply(render.breadth(views.breadth_views(ctx.store, ctx.config)))


async def cmd_cpi(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    return Reply(render.cpi(views.cpi_view(ctx.store, ctx.config)))


async def cmd_status(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    view = status_view(ctx.store, ctx.config, next_runs=ctx.service.next_runs(), last_error=ctx.service.last_error)
    return Reply(render.status(view))


async def cmd_rules(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    return Reply(render.rules(views.rule_lines(ctx.store, ctx.config)))


async def cmd_alerts(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UsageError
    if args and not (args[0].isascii() and args[0].isdigit() and len(args[0]) <= 3):  # int() reads ٣ and 1_0 too
        raise UsageError
    n = int(args[0]) if args else 5
    if not 1 <= n <= MAX_ALERTS:
        raise UsageError
    return Reply(render.alerts(views.recent_alerts(ctx.store, n)))


async def cmd_chart(ctx: CommandContext, args: list[str]) -> Reply:
    if not 1 <= len(args) <= 2 or (len(args) == 2 and args[1] not in CHART_PERIODS):
        raise UsageError
    metric, period = args[0], args[1] if len(args) == 2 else "1y"
    png = await off_loop(ctx, lambda store: render_chart(store, ctx.config, metric, period))
    return Reply(f"{echo(metric)}, {e(period)}", photo=png)


async def cmd_stats(ctx: CommandContext, args: list[str]) -> Reply:
    if not 1 <= len(args) <= 2:
        raise UsageError("rules: " + (", ".join(r.name for r in ctx.config.rules) or "none configured"))
    rule = find_rule(ctx.config, args[0])
    as_of = date_arg(args[1]) if len(args) == 2 else None
    record = await off_loop(ctx, lambda store: track_record_for(store, ctx.config, rule.name, as_of))
    return Reply(stats_html(record, rule))


async def cmd_rotation(ctx: CommandContext, args: list[str]) -> Reply:
    """Can the small-cap rotation continue? The answer, as of the latest close or a past day, with its chart."""
    if len(args) > 1:
        raise UsageError
    as_of = date_arg(args[0]) if args else None

    def work(store: Store) -> tuple[str, bytes]:
        view = rotation_view(store, ctx.config, as_of)
        return rotation_html(view), rotation_chart(view)

    text, png = await off_loop(ctx, work)
    return Reply(text, photo=png)


async def cmd_digest(ctx: CommandContext, args: list[str]) -> Reply:
    """The same digest the chat gets each evening: the rules it subscribed to."""
    no_args(args)
    only = chats.route(ctx.store, ctx.chat_id).shown(ctx.config.rules)
    return Reply(digest_text(ctx.store, ctx.config, only=only))
