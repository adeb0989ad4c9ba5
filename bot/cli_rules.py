"""Rule commands: rules check, rules list."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import Context, main, pass_ctx
from bot.config import load_config


@main.group()
def rules() -> None:
    """Validate, list and test rules."""


@rules.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def rules_check(obj: Context, file: Path | None) -> None:
    """Validate a config file's rules without running anything (exit 0 valid, 1 invalid).

    Example: rotation-bot rules check config.toml
    """
    cfg = load_config(file or obj.config_path)
    click.echo(f"{file or obj.config_path}: {len(cfg.rules)} rules OK")


@rules.command("list")
@pass_ctx
def rules_list(obj: Context) -> None:
    """List the configured rules with their metric and condition."""
    for r in obj.config.rules:
        flag = "" if r.spec.enabled else " (disabled)"
        click.echo(f"{r.name:<30} {r.describe_metric()} {r.describe_condition()}{flag}")
