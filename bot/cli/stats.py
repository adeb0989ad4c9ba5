"""Track-record command: stats RULE."""

from __future__ import annotations

import click

import bot.answers
import bot.history
from bot.cli.context import Context, emit_json, pass_ctx


@click.command()
@click.argument("rule_name", metavar="RULE")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def stats(obj: Context, rule_name: str, fmt: str) -> None:
    """Every past firing of RULE over all stored history and what followed it (1, 3, 6 months).

    A ratio or relative rule is judged by its symbol's move minus its benchmark's, in points;
    a single-symbol rule by the symbol's change in %. Firings whose horizon has not elapsed are
    listed as open and left out of the summaries. Cached until the rule or the data changes.

    Example: rotation-bot stats rut-spx-above-0.4 --format json
    """
    rule = bot.history.find_rule(obj.config, rule_name)
    if fmt == "json":
        emit_json(bot.history.stats_json(obj.store, obj.config, rule.name))
    else:
        click.echo(bot.answers.stats_table(bot.history.track_record_for(obj.store, obj.config, rule.name), rule))
