"""``rotation-bot run``: the bot in Telegram, or on the console when asked (or typed at a terminal with no token)."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

import bot
import bot.chat
import bot.edits
import bot.store
import bot.telegram
from bot.cli.context import Context, pass_ctx
from bot.errors import BotError


@click.command()
@click.option("--console", is_flag=True, help="Read commands from stdin and print answers; no Telegram.")
@click.option(
    "--schedule/--no-schedule",
    default=None,
    help="Run the daily fetch + check and CPI jobs (default: on with Telegram, off in console mode).",
)
@pass_ctx
def run(obj: Context, console: bool, schedule: bool | None) -> None:
    """Run the bot: answer commands and deliver alerts until stopped.

    With a token (TELEGRAM_BOT_TOKEN, or the variable named by [telegram] token_env) it polls
    Telegram; with --console, or without a token at a terminal, it reads commands from stdin and exits at
    end of input. Without a token and without a terminal (a service) it exits 1 saying so.

    Example: echo /ratio | rotation-bot run --console
    """
    config = obj.config
    token = None if console else config.token()
    if token is None and not console and not _at_a_terminal():
        # Under systemd or cron stdin is /dev/null: a console would read end of input and exit 0, and the bot
        # would be down for good with nobody told. Failing lets the unit restart it and log why.
        raise BotError(
            f"no Telegram token: {config.token_source()} is empty. Set it to the token @BotFather gave (or name a "
            "file in [telegram] token_file), or run `rotation-bot run --console` for the console"
        )
    logging.basicConfig(
        level=logging.INFO if token else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        with bot.store.running_alone(config.store_path):
            try:
                _serve(obj, console, schedule, token)
            finally:
                obj.close()  # before the lock goes: closing its descriptor would drop SQLite's locks on the file
    except KeyboardInterrupt:  # Ctrl-C is how a foreground bot is stopped: not an error
        click.echo("Stopped.", err=True)


def _at_a_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _serve(obj: Context, console: bool, schedule: bool | None, token: str | None) -> None:
    config = obj.config
    obj.store.ensure_sound()
    bot.edits.settle(obj.store, obj.config_path)  # an edit a crash left unrecorded
    options = bot.chat.RunOptions(schedule=schedule if schedule is not None else token is not None)
    service = bot.chat.Service(config, obj.store, config_path=obj.config_path, options=options)
    if token:
        bot.telegram.run_telegram(service, token)
        return
    if not console:
        click.echo(
            f"No Telegram token set (environment variable {config.settings.telegram.token_env} is empty): "
            "running in console mode. Type /help; end with Ctrl-D.",
            err=True,
        )
    asyncio.run(bot.console.run_console(service))
