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
    report = bot.answers.status_report(obj.store, obj.config)
    if fmt == "json":
        emit_json(report)
    else:
        click.echo(f"Now {report['now']} ({'trading day' if report['trading_day'] else 'market closed'})")
        for kind, run in report["runs"].items():
            when = run["last_success"] or "never"
            extra = f", last run {run['last_status']}" if run["last_status"] not in (None, "ok") else ""
            click.echo(f"  {kind} job: last success {when}{extra}")
        click.echo(f"  latest close {report['latest_close'] or 'none'}, expected {report['expected_close'] or 'n/a'}")
        behind = {s: d for s, d in report["latest_by_symbol"].items() if d < (report["latest_close"] or d)}
        if behind:  # the rules on these judge an older day than the latest close: say which, as /status does
            click.echo("  behind it: " + ", ".join(f"{s} to {d}" for s, d in behind.items()))
        for name, src in report["sources"].items():
            click.echo(
                f"  source {name}: data to {src.get('last_data_date') or '?'}, "
                f"last success {src.get('last_success') or 'never'}"
            )
        out = report["outbox"]
        click.echo(
            f"  outbox: {out['pending']} pending" + (f" since {out['oldest_pending']}" if out["oldest_pending"] else "")
        )
        for w in report["warnings"]:
            click.echo(f"Warning: {w}", err=True)
        if not report["warnings"]:
            click.echo("All good.")
    if report["warnings"]:
        raise SystemExit(1)
