"""``rotation-bot whatif``: what a rule change would have done, before it is made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

import bot.answers
import bot.config
import bot.market
from bot.cli.context import Context, emit_json, parse_date, pass_ctx, require_data_from
from bot.errors import BotError


@click.command()
@click.argument("rule_name", metavar="RULE", required=False)
@click.argument("edits", metavar="KEY=VALUE...", nargs=-1)
@click.option("--from", "start", callback=parse_date, help="First day of the replay (default: all stored history).")
@click.option("--rule-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Try a new rule.")
@click.option("--sweep", "sweeps", multiple=True, metavar="KEY=START:STOP:STEP", help="Sweep a key (one or two).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), help="Draw the sweep to a PNG file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def whatif(
    obj: Context,
    rule_name: str | None,
    edits: tuple[str, ...],
    start: dt.date | None,
    rule_file: Path | None,
    sweeps: tuple[str, ...],
    chart: Path | None,
    fmt: str,
) -> None:
    """Replay RULE as it is and as edited, side by side: firings, most in one year, the last five firings,
    and what followed them (n, share followed by a rise, median 3-month move). Any rule key can be edited;
    an invalid edit is the same located error as `rules check`. Nothing is saved.

    Example: rotation-bot whatif rut-spx-above-0.4 threshold=0.42 hysteresis=0.01 --from 2000-01-01

    Example: rotation-bot whatif rut-spx-above-0.4 --sweep threshold=0.36:0.44:0.005 --chart sweep.png
    """
    if rule_file is not None:
        if rule_name and "=" in rule_name:  # `whatif --rule-file F threshold=…`: no RULE, edits only
            edits, rule_name = (rule_name, *edits), None
        rule = bot.market.load_rule_file(rule_file.read_text(), str(rule_file))
        if rule_name and rule_name != rule.name:  # a name that is not the file's rule would be silently ignored
            raise click.UsageError(
                f'{rule_file} holds rule "{rule.name}", not "{rule_name}": name it, or leave RULE out'
            )
    elif rule_name:
        rule = bot.config.find_rule(obj.config, rule_name)
    else:
        raise click.UsageError("name a RULE, or give --rule-file FILE")
    changes = bot.market.parse_edits(edits)
    require_data_from(obj.store, start)
    if sweeps:
        if len(sweeps) > 2:
            raise click.UsageError("at most two --sweep keys")
        if chart is not None and chart.suffix.lower() != ".png":
            raise click.BadParameter("charts are PNG images: name the file *.png", param_hint="--chart")
        axes = [bot.market.sweep_axis(s) for s in sweeps]
        if changes:  # fixed edits apply to every swept variant
            rule = bot.market.edited(rule, changes, "the command line")
        variants = bot.market.sweep(obj.store, obj.config, rule, axes, start)
        keys = [k for k, _ in axes]
        if fmt == "json":
            emit_json({"rule": rule.name, "keys": keys, "variants": [bot.answers.variant_json(v) for v in variants]})
        else:
            click.echo(bot.answers.sweep_table(rule.name, keys, variants))
        if chart is not None:
            try:
                chart.write_bytes(bot.answers.sweep_chart(rule.name, keys, variants))
            except OSError as exc:
                raise BotError(f"cannot write {chart}: {exc.strerror}") from None
            click.echo(f"Wrote {chart}.", err=fmt == "json")
        return
    if chart is not None:
        raise click.UsageError("--chart draws a --sweep")
    variants = bot.market.whatif(obj.store, obj.config, rule, changes, start)
    if fmt == "json":
        emit_json({"rule": rule.name, "variants": [bot.answers.variant_json(v) for v in variants]})
    else:
        click.echo(bot.answers.whatif_table(rule.name, variants))
    for v in variants:
        if v.error:
            click.echo(f"Warning: {v.label}: {v.error}", err=True)
    if variants and all(v.error for v in variants):
        raise SystemExit(1)
