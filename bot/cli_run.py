"""``rotation-bot run``: the bot in Telegram, or on the console when there is no token."""

from __future__ import annotations

import asyncio
import logging

import click

from bot.cli import Context, main, pass_ctx


@main.command()
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
    from bot.service import Service

    config, store = obj.config, obj.store
    token = None if console else config.token()
    logging.basicConfig(
        level=logging.INFO if token else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    service = Service(config, store, config_path=obj.config_path)
    if schedule or (schedule is None and token):
        from bot.scheduler import install

        install(service)
    if token:
        service.run_telegram(token)
        return
    if not console:
        click.echo(
            f"No Telegram token set (environment variable {config.settings.telegram.token_env} is empty): "
            "running in console mode. Type /help; end with Ctrl-D.",
            err=True,
        )
    from bot.console import run_console

    asyncio.run(run_console(service))
