"""Admin commands: reload the config, enter a CPI consensus."""

from __future__ import annotations

from bot.answers import e, echo
from bot.chat.base import CommandContext, Reply, no_args
from bot.config import reload_config
from bot.market import parse_consensus_args, set_consensus


async def cmd_reload(ctx: CommandContext, args: list[str]) -> Reply:
    no_args(args)
    return Reply(echo(reload_config(ctx.service.config_holder)))


async def cmd_consensus(ctx: CommandContext, args: list[str]) -> Reply:
    try:
        entry = parse_consensus_args(args)
    except ValueError as exc:
        return Reply(echo(exc))
    set_consensus(ctx.store, entry)
    note = ""
    if any(c.month == entry.month and c.measure == entry.measure for c in ctx.config.settings.cpi.consensus):
        note = " (config.toml has an entry for this month and measure, and it wins)"
    pct = f"{entry.expected:.1f}" if round(entry.expected, 1) == entry.expected else f"{entry.expected:g}"
    return Reply(f"Consensus for CPI {e(entry.month)} {e(entry.measure)}: {pct}%{note}.")
