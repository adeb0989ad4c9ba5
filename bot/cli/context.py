"""What every command shares: the lazily opened config and store, date parsing, JSON output, and the
one place errors are rendered (a ``BotError``/``RuleError`` becomes ``Error: …`` and exit status 1).

Config and store are loaded on first use, reached through ``bot.config``/``bot.store`` at call time:
``--help`` needs neither pydantic nor sqlite-utils (which imports pandas).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

import bot.config
import bot.store
from bot.errors import BotError
from rules import RuleError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.store import Store


class Context:
    """Lazily loaded config and store, shared by the subcommands."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = bot.config.load_config(self.config_path)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = bot.store.Store(self.config.store_path)
        return self._store

    def store_path(self) -> Path:
        """The store's file, without opening it (for messages about it)."""
        return self._store.path if self._store is not None else self.config.store_path

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


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


class CommandGroup(click.Group):
    """Turns our typed errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BotError, RuleError) as exc:
            _fail(exc)
        except sqlite3.Error as exc:  # a store fault in the middle of a command: the file and what to do
            obj = ctx.find_object(Context)
            _fail(bot.store.store_fault(obj.store_path() if obj else Path("store"), exc))


def _fail(exc: Exception) -> NoReturn:
    for line in str(exc).splitlines() or [type(exc).__name__]:
        click.echo(f"Error: {line}", err=True)
    sys.exit(1)


def require_data_from(store: bot.store.Store, start: dt.date | None) -> None:
    """A range that begins after the last stored day has no data: one error and exit 1 (replay, whatif alike),
    not a warning per rule that its symbols have "no prices stored"."""
    latest = store.latest_date()
    if start is not None and (latest is None or start > latest):
        raise BotError(f"no prices on or after {start}: the stored data ends on {latest or 'no day at all'}")
