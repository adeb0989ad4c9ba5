"""Rule commands: rules check, rules list, rules test."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

import bot.answers
import bot.config
import bot.edits
import bot.market
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
    if cfg.unavailable:  # the running bot runs the other rules; a check of the file names these as errors
        raise BotError("\n".join(str(p) for p in cfg.unavailable.values()))
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
    payloads = {
        r.name: cached[r.name][1]
        for r in obj.config.rules
        if r.name in cached and cached[r.name][0] == r.fingerprint and engine.is_current(cached[r.name][1])
    }
    if len(payloads) == len(obj.config.rules) or bot.store.stored_symbols(path, ()) is None:
        return bot.answers.noise_texts(payloads)  # all cached, or no store to compute from
    records = bot.market.track_records(obj.store, obj.config, strict=False)
    return bot.answers.noise_texts({name: rec.to_dict() for name, rec in records.items()})


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


# --- editing config.toml: the command-line twins of the chat commands -----------------------------

dry_run_option = click.option("--dry-run", is_flag=True, help="Show the change; write nothing.")


@rules.command("set")
@click.argument("rule_name", metavar="RULE")
@click.argument("key")
@click.argument("value")
@click.argument("more", nargs=-1, metavar="[KEY VALUE]...")
@dry_run_option
@pass_ctx
def rules_set(obj: Context, rule_name: str, key: str, value: str, more: tuple[str, ...], dry_run: bool) -> None:
    """Set KEY of RULE to VALUE in the config file, keeping its comments and layout: prints the diff and, when
    the store has data, what the change would have done (as `whatif`); then writes it and records the edit
    (`rules history`, `rules undo`). VALUE is TOML (0.42, 5, true, [1, 2]); anything else is text. More KEY VALUE
    pairs make one edit: one diff, one history entry, one undo.

    Example: rotation-bot rules set rut-spx-above-0.4 threshold 0.41 hysteresis 0.005 --dry-run
    """
    if len(more) % 2:
        raise click.UsageError(f"expected KEY VALUE pairs; {more[-1]!r} has no value")
    pairs = [(key, value), *zip(more[0::2], more[1::2], strict=True)]
    edit = bot.config.Edit.set(rule_name, key, value) if not more else bot.config.Edit.update(rule_name, pairs)
    _commit(obj, bot.config.preview(obj.config_path, edit), dry_run)


def _commit(obj: Context, preview: bot.config.Preview, dry_run: bool, undoes: int | None = None) -> None:
    """Show the preview as the chat does (the diff, the what-if, what Apply re-evaluates), then write and record it
    through the same flow as the chat's Apply, unless ``dry_run``."""
    if not preview.changed:
        click.echo(preview.summary[:1].upper() + preview.summary[1:])
        return
    store = obj.store if obj.config.store_path.exists() else None  # a preview creates no store
    proposal = bot.edits.propose(store, obj.config, preview)
    again = proposal.again if dry_run else ()
    lines = bot.answers.preview_lines(preview.diff.rstrip("\n"), proposal.rule, proposal.variants, again)
    click.echo(bot.answers.to_plain("\n".join(lines)))
    stale = bot.answers.stale_note(bot.config.stale_words(preview), preview.edit.rule, "rotation-bot rules rename")
    if stale:
        click.echo(f"Warning: {stale.removeprefix('⚠️ ')}", err=True)
    if proposal.problem:
        click.echo(f"Warning: no what-if: {proposal.problem}", err=True)
    for v in proposal.variants:
        if v.error and v.error != bot.edits.DISABLED:  # a disabled rule's column says so itself
            click.echo(f"Warning: {v.label}: {v.error}", err=True)
    if dry_run:
        click.echo(f"Dry run: {preview.summary}; nothing written.")
        return
    applied = bot.edits.apply_edit(obj.store, obj.config, obj.config_path, preview, chat_id=None, undoes=undoes)
    if applied.unrecorded:  # the file is written; the command fails so a script notices
        raise BotError(applied.unrecorded)
    rules = {r.name: r for r in preview.new_config.rules}
    for name, state in bot.edits.rejudge(obj.store, applied).items():
        click.echo(f"{name}: state re-evaluated on the new definition: {engine.state_reason(rules[name], state)}")
    if undoes is None and applied.record is not None:
        click.echo(f"Done: {preview.summary} (edit #{applied.record.id}; `rotation-bot rules undo` reverts it).")


@rules.command("enable")
@click.argument("rule_name", metavar="RULE")
@dry_run_option
@pass_ctx
def rules_enable(obj: Context, rule_name: str, dry_run: bool) -> None:
    """Enable RULE in the config file (prints the diff and, when the store has data, the what-if; then writes it and
    records the edit).

    Example: rotation-bot rules enable breadth-above-75
    """
    _commit(obj, bot.config.preview(obj.config_path, bot.config.Edit.enable(rule_name)), dry_run)


@rules.command("disable")
@click.argument("rule_name", metavar="RULE")
@dry_run_option
@pass_ctx
def rules_disable(obj: Context, rule_name: str, dry_run: bool) -> None:
    """Disable RULE in the config file (`enabled = false`: it is kept, not checked).

    Example: rotation-bot rules disable breadth-above-75 --dry-run
    """
    _commit(obj, bot.config.preview(obj.config_path, bot.config.Edit.disable(rule_name)), dry_run)


@rules.command("rename")
@click.argument("rule_name", metavar="RULE")
@click.argument("new_name", metavar="NEW-NAME")
@dry_run_option
@pass_ctx
def rules_rename(obj: Context, rule_name: str, new_name: str, dry_run: bool) -> None:
    """Rename RULE to NEW-NAME in the config file, keeping its state (no new alert), the chats that follow it and
    its silences, as /rename does (a rename by hand in config.toml carries none of them over).

    Example: rotation-bot rules rename rut-spx-above-0.4 rut-spx-above-0.42 --dry-run
    """
    _commit(obj, bot.config.preview(obj.config_path, bot.config.Edit.rename(rule_name, new_name)), dry_run)


@rules.command("history")
@click.argument("rule_name", metavar="[RULE]", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Edits to show.")
@pass_ctx
def rules_history(obj: Context, rule_name: str | None, limit: int) -> None:
    """The edits made to the rules from chat or the command line, newest first: when, who, and the diff.

    Example: rotation-bot rules history rut-spx-above-0.4
    """
    records = bot.edits.history(obj.store, obj.config_path, rule_name, limit)  # an edit a crash left is settled first
    if not records:
        click.echo("No edits recorded" + (f' for rule "{rule_name}".' if rule_name else "."))
    for r in records:
        click.echo(f"#{r.id} {r.at} by {r.who}: {bot.answers.edit_summary(r)}")
        click.echo("".join(f"    {line}\n" for line in r.diff.splitlines()), nl=False)


@rules.command("undo")
@dry_run_option
@pass_ctx
def rules_undo(obj: Context, dry_run: bool) -> None:
    """Undo the last edit still in effect (again: the one before it), unless the file changed since.

    Example: rotation-bot rules undo --dry-run
    """
    undo = bot.edits.preview_undo(obj.store, obj.config_path)
    _commit(obj, undo.preview, dry_run, undoes=undo.record.id)
    if not dry_run:
        click.echo(f"Undid edit #{undo.record.id} ({bot.answers.edit_summary(undo.record)}).")
