"""``rotation-bot status``: last runs, data freshness per source, stale-data warnings, outbox backlog."""

from __future__ import annotations

import click

import bot.answers
from bot.cli.context import Context, emit_json, pass_ctx


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def status(obj: Context, fmt: str) -> None:
    """Show whether the bot is healthy: last successful runs, source freshness, stale data, outbox.

    Exit status 1 when there is a warning, so a cron job or monitor can alert on it.

    Example: rotation-bot status --format json
    """
    view = bot.answers.status_view(obj.store, obj.config)
    if fmt == "json":
        emit_json(view.as_json())
    else:
        click.echo(
            f"Now {view.now.isoformat(timespec='minutes')} ({'trading day' if view.trading_day else 'market closed'})"
        )
        for kind, run in view.runs.items():
            when = run.last_success or "never"
            extra = f", last run {run.last_status}" if run.last_status not in (None, "ok") else ""
            click.echo(f"  {kind} job: last success {when}{extra}")
        click.echo(f"  latest close {view.latest_close or 'none'}, expected {view.expected_close or 'n/a'}")
        latest = view.latest_close
        behind = {s: d for s, d in view.latest_by_symbol.items() if latest and d < latest}
        if behind:  # the rules on these judge an older day than the latest close: say which, as /status does
            click.echo("  behind it: " + ", ".join(f"{s} to {d}" for s, d in behind.items()))
        for src in view.sources:
            when = src.last_success or "never"
            click.echo(f"  source {src.source}: data to {src.last_data_date or '?'}, last success {when}")
        since = f" since {view.oldest_pending}" if view.oldest_pending else ""
        click.echo(f"  outbox: {view.pending} pending{since}")
        for w in view.warnings:
            click.echo(f"Warning: {w}", err=True)
        if view.ok:
            click.echo("All good.")
    if not view.ok:
        raise SystemExit(1)
