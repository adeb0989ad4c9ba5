"""The chart command: the same PNG the bot sends, written to a file."""

from __future__ import annotations

from pathlib import Path

import click

import bot.answers
from bot.calendar import CHART_PERIODS
from bot.cli.context import Context, pass_ctx
from bot.errors import BotError


@click.command()
@click.argument("metric")
@click.option("--period", type=click.Choice(list(CHART_PERIODS)), default="1y", show_default=True, help="Span to draw.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PNG file.")
@pass_ctx
def chart(obj: Context, metric: str, period: str, out: Path) -> None:
    """Draw METRIC (ratio, breadth, a rule name or a metric name) with thresholds and past alerts.

    Example: rotation-bot chart ratio --period 5y --out ratio.png
    """
    if out.suffix.lower() != ".png":
        raise click.BadParameter(
            f"charts are PNG images: name the file {out.with_suffix('.png').name}", param_hint="--out"
        )
    png = bot.answers.render_chart(obj.store, obj.config, metric, period)
    try:
        out.write_bytes(png)
    except OSError as exc:
        raise BotError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"Wrote {out} ({len(png) // 1024} KiB).")
