"""Command line: ``rotation-bot [--config FILE] COMMAND``, one module per command group.

Each module defines its commands; this one adds them to the root group, so no command module
imports this one. Command modules reach the floors below by attribute at call time
(``bot.jobs.run_check``), so ``--help`` and ``rules check`` load neither pandas nor Telegram.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import backup, chart, data, rotation, rules, run, stats, status, whatif
from bot.cli.context import CommandGroup, Context


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="Configuration file.",
)
@click.version_option(package_name="rotation-bot")
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """rotation-bot: market-regime alerts (Russell 2000 / S&P 500, breadth, CPI) in Telegram.

    Example: rotation-bot fetch --source csv --path ../shared/data && rotation-bot check
    """
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)


for command in (
    data.fetch,
    data.check,
    data.replay,
    whatif.whatif,
    rules.rules,
    stats.stats,
    rotation.rotation,
    chart.chart,
    status.status,
    run.run,
    backup.backup,
    backup.restore,
):
    main.add_command(command)
