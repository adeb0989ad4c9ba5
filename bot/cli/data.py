"""Data commands: fetch, check, replay."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import bot.answers
import bot.calendar
import bot.edits
import bot.ingest
import bot.jobs
import bot.market
import bot.store
import rules as engine
from bot.cli.context import Context, emit_json, parse_date, pass_ctx, require_data_from
from bot.errors import BotError
from bot.values import counted

if TYPE_CHECKING:
    from bot.ingest import LoadSummary
    from bot.jobs import CheckReport
    from rules import Alert, RuleResult


def _num(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


@click.command()
@click.option("--source", type=click.Choice(["yahoo", "csv", "fred"]), default="yahoo", show_default=True)
@click.option("--path", type=click.Path(exists=True, path_type=Path), help="Folder or file for --source csv.")
@click.option("--symbol", "symbols", multiple=True, help="Only these symbols (yahoo); repeatable.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--drop-future", is_flag=True, help="Fetch nothing: delete stored prices dated after the latest session.")
@pass_ctx
def fetch(
    obj: Context, source: str, path: Path | None, symbols: tuple[str, ...], no_progress: bool, drop_future: bool
) -> None:
    """Fill the store with daily closes (and member lists, CPI data).

    `--source csv --path DIR` loads every recognised CSV under DIR: SYMBOL.csv price files,
    FRED-shaped CPI files, members.csv, membership spans, CPI release dates and consensus.
    A bad cell refuses its row, printed as FILE:LINE: column: why; the rest still loads, and the exit
    status is 1 (also when nothing loaded at all).
    `--source yahoo` downloads what is new since the last stored day for the configured symbols and
    every universe member; `--source fred` fetches the CPI series.
    A price dated after the latest session is refused; `--drop-future` deletes such prices stored
    before, with the rule states, alerts and queued messages checked on them.

    Example: rotation-bot fetch --source csv --path ../shared/data
    """
    store = obj.store
    if drop_future:
        if path is not None or symbols:
            raise click.UsageError("--drop-future fetches nothing: give it without --path or --symbol")
        _drop_future(obj)
        return
    if source == "csv":
        if path is None:
            raise click.UsageError("--source csv needs --path DIR")
        from tqdm import tqdm

        files = [path] if path.is_file() else sorted(path.rglob("*.csv"))
        # disable=None: no bar when stderr is not a terminal (logs, CI), where it would be one endless line
        with tqdm(total=len(files), unit="file", disable=True if no_progress else None, file=sys.stderr) as bar:

            def tick(p: Path) -> None:
                bar.set_postfix_str(p.name, refresh=False)
                bar.update()

            through = bot.calendar.last_price_day(dt.datetime.now(dt.UTC), obj.config.settings.schedule.exchange)
            summary = bot.ingest.load_directory(store, path, on_file=tick, through=through)
        parts = [counted(summary.symbols, "symbol"), f"{counted(summary.rows, 'row')} added or changed"]
        parts += [f"universe {u}: {n} members" for u, n in summary.universes.items()]
        parts += [f"membership {u}: {n} spans" for u, n in summary.membership.items()]
        parts += [f"{k}: {n} observations changed" for k, n in summary.cpi_series.items()]
        if summary.releases:
            parts.append(f"{summary.releases} CPI release dates")
        if summary.consensus:
            parts.append(f"{summary.consensus} consensus rows")
        click.echo("Loaded " + ", ".join(parts) + ".")
        if summary.skipped:
            names = ", ".join(summary.skipped[:5]) + ("…" if len(summary.skipped) > 5 else "")
            click.echo(
                f"Skipped {len(summary.skipped)} file(s) whose header is not a format listed in the README: {names}"
            )
        if summary.files == 0 and not summary.failures:
            raise BotError(f"no recognised CSV files under {path}")
        if summary.loaded:
            store.mark_source("csv", ok=True, last_data_date=store.latest_date())
        _report_problems(summary)
        return
    report = bot.ingest.fetch_live(store, obj.config, source, list(symbols) or None, progress=not no_progress)
    click.echo(report.summary())
    for symbol, why in report.failures.items():
        click.echo(f"Warning: {symbol}: {why}", err=True)


def _drop_future(obj: Context) -> None:
    day = bot.calendar.last_price_day(dt.datetime.now(dt.UTC), obj.config.settings.schedule.exchange)
    done = bot.store.future.drop_after(obj.store, day)
    if not done.prices:
        click.echo(f"No stored price is dated after the latest session ({day}): nothing dropped.")
        return
    rows = sum(done.prices.values())
    states = f", the states of {', '.join(done.states)} (checked again from the next check on)" if done.states else ""
    click.echo(
        f"Dropped {counted(rows, 'price')} dated after the latest session ({day}) of {', '.join(sorted(done.prices))}"
        f"{states}, {counted(done.alerts, 'alert')} and {counted(done.queued, 'queued message')} of those days."
    )


REFUSED_PER_FILE = 10


def _report_problems(summary: LoadSummary) -> None:
    """Refused rows and files on stderr, at most ``REFUSED_PER_FILE`` lines a file; exit 1 if any, or if
    nothing loaded, so a script notices (everything valid is already stored by then)."""
    by_file: dict[str, list[str]] = {}
    for r in summary.refused:
        by_file.setdefault(r.file, []).append(str(r))
    for name, lines in by_file.items():
        for line in lines[:REFUSED_PER_FILE]:
            click.echo(line, err=True)
        if len(lines) > REFUSED_PER_FILE:
            click.echo(f"… and {len(lines) - REFUSED_PER_FILE} more in {name}", err=True)
    for name, why in summary.failures.items():
        click.echo(f"{name}: {why}", err=True)
    problems = []
    if summary.refused:
        n, k = len(summary.refused), len(by_file)
        problems.append(f"refused {n} row{'s' * (n != 1)} in {k} file{'s' * (k != 1)} (the store keeps what it had)")
    if summary.failures:
        n = len(summary.failures)
        problems.append(f"{n} file{'s' * (n != 1)} had no row to load")
    if not summary.loaded:
        raise BotError("nothing loaded: " + ("; ".join(problems) or "no rows in the recognised files"))
    if problems:
        raise BotError("; ".join(problems) + "; everything else is loaded")


def _rule_json(r: RuleResult) -> dict[str, Any]:
    spec = r.rule.spec
    out: dict[str, Any] = {
        "name": r.rule.name,
        "metric": spec.metric,
        "description": r.rule.describe_metric(),
        "condition": spec.condition,
        "threshold": spec.threshold,
        "value": _num(r.value),
        "date": r.date.isoformat() if r.date else None,
        "state": "error" if r.error else r.state.state.value,
    }
    if spec.low is not None:
        out["low"], out["high"] = spec.low, spec.high
    if r.state.active_at:
        out["active_at"] = r.state.active_at.isoformat()
    if r.state.fired_at:
        out["fired_at"] = r.state.fired_at.isoformat()
    if r.error:
        out["error"] = r.error
    out.update({k: _num(v) for k, v in r.details.items()})
    return out


def _alert_json(a: Alert, new: bool, sent: bool | None = None) -> dict[str, Any]:
    d = a.to_dict()
    d["value"] = _num(d["value"])
    d["new"] = new
    if sent is not None:
        d["queued"] = sent
    return d


def looked_back_line(report: CheckReport) -> str | None:
    """One line when ``--as-of`` went back before days already checked: why nothing is new, and how to see it."""
    if not report.historical or report.checked_to is None:
        return None
    n = len(report.historical)
    which = "every rule" if n >= len(report.results) - len(report.errors) else f"{n} rule{'s' * (n != 1)}"
    return (
        f"Note: this store already checked {which} up to {report.checked_to}, so {report.as_of} is a look back: "
        f"nothing is recorded or sent. Past alerts: `rotation-bot replay --from {report.as_of}`, "
        "or check day by day on a fresh store ([store] path)."
    )


def _print_table(report: CheckReport) -> None:
    if note := looked_back_line(report):
        click.echo(note)
    click.echo(f"Rules as of {report.as_of}:")
    width = max((len(r.rule.name) for r in report.results), default=0)
    for r in report.results:
        if r.error:
            click.echo(f"  {r.rule.name:<{width}} ERROR  {r.error}")
            continue
        value = "n/a" if r.value is None else f"{r.value:.4g}"
        extra = ""
        if "counted" in r.details:
            extra = f"  ({r.details['counted']} counted, {r.details['excluded']} excluded)"
        when = f" on {r.date}" if r.date and r.date != report.as_of else ""
        click.echo(
            f"  {r.rule.name:<{width}} {r.state.state.value:<9} {value:>9}{when}  "
            f"{r.rule.describe_metric()} {r.rule.describe_condition()}{extra}"
        )
        click.echo(f"  {'':<{width}} {engine.state_reason(r.rule, r.state)}")
    if report.alerts:
        click.echo("Alerts:")
        for a in report.alerts:
            click.echo(f"  {a.date} [{a.rule}] {a.message}")
    else:
        click.echo("No new alerts.")
    if report.unsent:
        click.echo(
            f"({len(report.unsent)} of them recorded but not sent: older than {bot.jobs.SEND_WITHIN.days} days.)"
        )
    if report.looked_back:
        click.echo("Alerts of this past day (not recorded or sent: these rules were already checked to a later day):")
        for a in report.looked_back:
            click.echo(f"  {a.date} [{a.rule}] {a.message}")


@click.command()
@click.option("--as-of", "as_of", callback=parse_date, help="Evaluate as of this day (default: latest close).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 if any rule could not be evaluated.")
@pass_ctx
def check(obj: Context, as_of: dt.date | None, fmt: str, strict: bool) -> None:
    """Evaluate every rule on the stored data, print values and new alerts.

    Alerts are recorded, so running it twice for the same day alerts once. A rule whose data is
    missing is reported (and the others still run); exit status 1 when no rule could run.

    Example: rotation-bot check --as-of 2024-07-24 --format json
    """
    bot.edits.settle(obj.store, obj.config_path)  # a rename a crash left unrecorded: its routes follow it first
    latest, future = bot.answers.future_prices(obj.store, obj.config, dt.datetime.now(dt.UTC))
    if future and (as_of is None or as_of > latest):
        raise BotError(f"nothing was checked: {future}")
    if future:
        click.echo(f"Warning: {future}", err=True)
    report = bot.jobs.run_check(obj.store, obj.config, as_of, sink=bot.jobs.notifier(obj.config))
    if fmt == "json":
        emit_json(
            {
                "as_of": report.as_of.isoformat(),
                "rules": [_rule_json(r) for r in report.results],
                "alerts": [_alert_json(a, True, a not in report.unsent) for a in report.alerts]
                + [{**_alert_json(a, False), "recorded": False} for a in report.looked_back],
                "already_alerted": [_alert_json(a, False) for a in report.repeated],
                "historical": report.historical,
                "errors": report.errors,
                "seconds": round(report.seconds, 3),
            }
        )
    else:
        _print_table(report)
    for name, why in {**report.errors, **report.template_failures}.items():
        click.echo(f'Warning: rule "{name}": {why}', err=True)
    evaluated = [r for r in report.results if not r.error]
    if report.errors and (strict or not evaluated):
        raise SystemExit(1)


@click.command()
@click.option("--from", "start", callback=parse_date, required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=parse_date, help="Last day (default: latest close).")
@click.option("--rule", "rule_names", multiple=True, help="Only this rule; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@pass_ctx
def replay(obj: Context, start: dt.date, end: dt.date | None, rule_names: tuple[str, ...], fmt: str) -> None:
    """Run the rules over history as the daily job would and list every alert.

    Example: rotation-bot replay --from 2000-01-01 --rule rut-spx-above-0.4
    """
    if end is not None and end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}", param_hint="--to")
    require_data_from(obj.store, start)
    result, seconds = bot.market.run_replay(obj.store, obj.config, start, end, list(rule_names) or None)
    alerts = [a for a in result.alerts]
    if fmt == "json":
        emit_json(
            {
                "from": start.isoformat(),
                "to": end.isoformat() if end else None,
                "alerts": [_alert_json(a, True) for a in alerts],
                "counts": result.counts,
                "errors": result.errors,
                "seconds": round(seconds, 3),
            }
        )
    elif fmt == "csv":
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(["date", "rule", "kind", "value", "message"])
        for a in alerts:
            w.writerow([a.date.isoformat(), a.rule, a.kind, f"{a.value:.6g}", a.message])
    else:
        width = max((len(name) for name in result.counts), default=0)
        for a in alerts:
            click.echo(f"{a.date}  {a.rule:<{width}} {a.kind:<8} {a.value:>10.4g}  {a.message}")
        click.echo("")
        for name, n in result.counts.items():
            click.echo(f"{name:<{width}} {n:>4} alert{'' if n == 1 else 's'}")
        n = len(result.counts)
        click.echo(f"Replayed {n} rule{'' if n == 1 else 's'} in {seconds:.3f} s.")
    for name, why in result.errors.items():
        click.echo(f'Warning: rule "{name}": {why}', err=True)
