"""The rotation command: can the small-cap rotation continue? The move, the signals, the precedents."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import click

import bot.answers
import bot.market
from bot.cli.context import Context, emit_json, parse_date, pass_ctx
from bot.config import ROTATION_MAX_DAYS, ROTATION_MIN_GAP
from bot.errors import BotError


def _a_number(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """FloatRange lets NaN through (no comparison with it is false), and NaN finds no rotation at all."""
    if value is not None and math.isnan(value):
        raise click.BadParameter(f"{value!r} is not a number")
    return value


@click.command()
@click.option("--as-of", "as_of", callback=parse_date, help="Answer at this day's close, from what was known then.")
@click.option(
    "--since",
    "since",
    callback=parse_date,
    help="Measure the move from this close (default: the start "
    "of the rotation under way, else of the widest recent window).",
)
@click.option(
    "--min-gap",
    type=click.FloatRange(*ROTATION_MIN_GAP),
    callback=_a_number,
    help=f"Points a rotation must reach, {ROTATION_MIN_GAP[0]:g} to {ROTATION_MIN_GAP[1]:g} "
    "(default: [rotation] min_gap, 8).",
)
@click.option(
    "--max-days",
    type=click.IntRange(*ROTATION_MAX_DAYS),
    help=f"Within this many trading days, {ROTATION_MAX_DAYS[0]} to {ROTATION_MAX_DAYS[1]} "
    "(default: [rotation] max_days, 45).",
)
@click.option("--chart", "chart_out", type=click.Path(dir_okay=False, path_type=Path), help="Also draw it to FILE.png.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def rotation(
    obj: Context,
    as_of: dt.date | None,
    since: dt.date | None,
    min_gap: float | None,
    max_days: int | None,
    chart_out: Path | None,
    fmt: str,
) -> None:
    """Can the small-cap rotation continue? The Russell 2000 against the S&P 500 now, the column's signals
    against their own history, and what followed every earlier rotation of at least MIN_GAP points within
    MAX_DAYS trading days, beside what any day gave (the base rate) and a test of chance.

    With --as-of nothing after that day's close is used: prices, breadth, CPI releases and outcomes.

    Example: rotation-bot rotation --as-of 2024-07-24 --since 2024-07-09
    """
    if chart_out is not None and chart_out.suffix.lower() != ".png":
        raise click.BadParameter(
            f"charts are PNG images: name the file {chart_out.with_suffix('.png').name}", param_hint="--chart"
        )
    view = bot.market.rotation_view(obj.store, obj.config, as_of, since, min_gap, max_days)
    if fmt == "json":
        emit_json(bot.answers.rotation_json(view))
    else:
        click.echo(bot.answers.rotation_text(view))
    if chart_out is not None:
        png = bot.answers.rotation_chart(view)
        try:
            chart_out.write_bytes(png)
        except OSError as exc:
            raise BotError(f"cannot write {chart_out}: {exc.strerror}") from None
        click.echo(f"Wrote {chart_out} ({len(png) // 1024} KiB).", err=fmt == "json")
