"""Rule commands: rules check, rules list, rules test."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

import bot.answers
import bot.config
import bot.history
import bot.store
import rules as engine
from bot.cli.context import Context, pass_ctx
from bot.errors import BotError
from rules import ConfigError, Problem

if TYPE_CHECKING:
    from rules import Rule


@click.group()
def rules() -> None:
    """Validate, list and test rules."""


@rules.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def rules_check(obj: Context, file: Path | None) -> None:
    """Validate a config file's rules without running anything (exit 0 valid, 1 invalid).

    Example: rotation-bot rules check config.toml
    """
    cfg = bot.config.load_config(file or obj.config_path)
    n = len(cfg.rules)
    click.echo(f"{file or obj.config_path}: {n} rule{'' if n == 1 else 's'} OK")
    for rule, missing in _unknown_symbols(cfg.rules, cfg.store_path):
        click.echo(
            f'Warning: rule "{rule}": no prices stored for {", ".join(missing)} (a typo, or not fetched yet?)', err=True
        )


def _unknown_symbols(rules: list[Rule], store_path: Path) -> list[tuple[str, list[str]]]:
    """Symbols the store has never seen: a typo such as ^RUTX is caught here, not at the next check.

    The store is only read: without a store file there is nothing to compare with.
    """
    known = bot.store.stored_symbols(store_path, {s for r in rules for s in r.symbols})
    if known is None:
        return []
    out = []
    for r in rules:
        missing = sorted(r.symbols - set(known))
        if missing:
            out.append((r.name, missing))
    return out


@rules.command("list")
@pass_ctx
def rules_list(obj: Context) -> None:
    """List the configured rules with their metric and condition, and how often each fired over the stored history.

    The frequency comes from the track records cached in the store; when the data changed since, they are
    computed again (a replay of each rule: seconds, once).
    """
    width = max((len(r.name) for r in obj.config.rules), default=0)
    for r in obj.config.rules:
        flag = "" if r.spec.enabled else " (disabled)"
        click.echo(f"{r.name:<{width}} {r.describe_metric()} {r.describe_condition()}{flag}")
    noise = _noise(obj)
    for r in obj.config.rules:
        if r.name in noise:
            click.echo(f"{r.name:<{width}} fires {noise[r.name]}")


def _noise(obj: Context) -> dict[str, str]:
    """Per rule, how often it fired: from the cache without opening the store, else computed once."""
    path = obj.config.store_path
    cached = bot.store.cached_tracks(path)
    out = {
        r.name: bot.answers.noise_from_payload(cached[r.name][1])
        for r in obj.config.rules
        if r.name in cached and cached[r.name][0] == r.fingerprint
    }
    if len(out) == len(obj.config.rules) or bot.store.stored_symbols(path, ()) is None:
        return out  # all cached, or no store to compute from
    records = bot.history.track_records(obj.store, obj.config, strict=False)
    return {
        name: bot.answers.noise_text([f.date for f in rec.firings], rec.since, rec.as_of)
        for name, rec in records.items()
    }


def config_rules(path: Path) -> list[Rule]:
    """A test file's ``config = …``: the rules that config file would run (the defaults when it has none)."""
    try:
        return bot.config.load_config(path).rules
    except BotError as exc:
        raise ConfigError([Problem(line) for line in str(exc).splitlines()]) from None


@rules.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def rules_test(files: tuple[Path, ...]) -> None:
    """Run rule unit tests written in TOML (series in, expected alerts out), like promtool test rules.

    Exit 0 when every test passes, 1 when one fails or a file is invalid. See rules/ruletest.py for the format.

    Example: rotation-bot rules test tests/rules/default_rules_test.toml
    """
    failed = False
    for path in files:
        click.echo(f"Unit testing: {path}")
        try:
            tests = engine.load_test_file(path, rule_loader=config_rules)
        except ConfigError as exc:
            for line in str(exc).splitlines():
                click.echo(f"  Error: {line}", err=True)
            failed = True
            continue
        results = [engine.run_test(t) for t in tests]
        for r in results:
            click.echo(r.report())
        bad = sum(not r.ok for r in results)
        failed |= bad > 0
        click.echo(f"  {len(results) - bad} passed, {bad} failed")
    if failed:
        raise SystemExit(1)
