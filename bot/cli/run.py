"""``rotation-bot run``: the bot in Telegram, or on the console when there is no token."""

from __future__ import annotations

import asyncio
import logging

import click

import bot
import bot.chat
import bot.edits
import bot.store
import bot.telegram
from bot.cli.context import Context, pass_ctx


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
    Telegram; without one, or with --console, it reads commands from stdin and exits at end of input.

    Example: echo /ratio | rotation-bot run --console
    """
    config = obj.config
    token = None if console else config.token()
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
