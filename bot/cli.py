"""Command line: ``rotation-bot [--config FILE] COMMAND``.

Every command renders errors once, here: a ``BotError``/``RuleError`` becomes ``Error: …`` on
stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.config import Config, load_config
from bot.errors import BotError
from bot.store import Store
from rules import RuleError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """Lazily loaded config and store, shared by the subcommands."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.store_path)
        return self._store


pass_ctx = click.make_pass_decorator(Context)


def parse_date(ctx: click.Context | None, param: click.Parameter | None, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2024-07-17, got {value!r}") from None


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str, allow_nan=False))


class Group(click.Group):
    """Turns our typed errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BotError, RuleError) as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                click.echo(f"Error: {line}", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.call_on_close(lambda: ctx.obj._store.close() if ctx.obj._store else None)


def register_commands() -> None:
    """Import the command modules; each adds its commands to ``main``."""
    from bot import cli_chart, cli_data, cli_rules, cli_run, cli_stats, cli_status  # noqa: F401


register_commands()
