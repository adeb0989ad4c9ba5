"""Track-record command: stats RULE [--as-of DATE]."""

from __future__ import annotations

import datetime as dt

import click

import bot.answers
import bot.config
import bot.market
from bot.cli.context import Context, emit_json, parse_date, pass_ctx


@click.command()
@click.argument("rule_name", metavar="RULE")
@click.option(
    "--as-of", "as_of", callback=parse_date, help="The record as known at this day's close (later days unused)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def stats(obj: Context, rule_name: str, as_of: dt.date | None, fmt: str) -> None:
    """Every past firing of RULE over all stored history and what followed it (1, 3, 6 months), each horizon
    beside every day's (the base rate) with a test of whether the difference is more than chance.

    A ratio or relative rule is judged by its symbol's move minus its benchmark's, in points;
    a single-symbol rule by the symbol's change in %. Firings whose horizon has not elapsed are
    listed as open and left out of the summaries. With --as-of, only what was known at that day's
    close is used: no later firing, no later close. Cached until the rule or the data changes.

    Example: rotation-bot stats rut-spx-above-0.4 --as-of 2024-07-24 --format json
    """
    rule = bot.config.find_rule(obj.config, rule_name)
    if fmt == "json":
        emit_json(bot.market.stats_json(obj.store, obj.config, rule.name, as_of))
    else:
        record = bot.market.track_record_for(obj.store, obj.config, rule.name, as_of)
        click.echo(bot.answers.stats_table(record, rule))
