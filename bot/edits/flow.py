"""The one edit flow the chat (/set, /watch, /undo, Apply) and the command line (``rules set``, ``undo``) share.

``propose`` is what a preview shows beside its diff: the rule replayed as it is and as edited, and the rules
whose stored state Apply re-evaluates. The what-if is left out, never guessed, whenever one of its guards
says it would mislead or cost for nothing: no store, an in-memory one, no prices, a symbol of the rule with
no stored prices, or an edit that cannot change the firings (wording, a rename). ``apply_edit`` writes and
records the edit; ``rejudge`` then judges the rules the edit redefined afresh (heavy: the chat runs it off
its event loop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Config, Preview
from bot.edits.record import EditNotRecorded, save_edit
from bot.errors import BotError
from bot.jobs import reevaluate, rejudged
from bot.market import Variant, replay_variants
from bot.store import Store, stored_symbols
from bot.store.edits import EditRecord
from rules import Rule, RuleState

log = logging.getLogger(__name__)

AS_IS, EDITED = "as is", "edited"
DISABLED = "disabled: no alerts"


@dataclass(frozen=True)
class Proposal:
    """A changed preview and what it would do: ``variants`` empty when there is no what-if (``problem``: why the
    replay failed, the preview standing without it); ``again``, the rules Apply re-evaluates."""

    preview: Preview
    rule: str
    variants: list[Variant] = field(default_factory=list)
    again: list[str] = field(default_factory=list)
    problem: str | None = None


def propose(store: Store | None, config: Config, preview: Preview) -> Proposal:
    """The what-if and the re-evaluations of ``preview`` against ``config``, the rules in force.

    ``store`` is None when there is none yet (the command line creates none for a preview).
    """
    rule = preview.edit.new_name or preview.edit.rule
    if store is None:
        return Proposal(preview, rule)
    again = rejudged(store, config, preview.new_config)
    try:
        variants = whatif(store, config, preview)
    except BotError as exc:
        return Proposal(preview, rule, again=again, problem=str(exc))
    return Proposal(preview, rule, variants, again)


def whatif(store: Store, config: Config, preview: Preview) -> list[Variant]:
    """The rule before and after the edit, replayed over the stored history; empty when a guard says no."""
    name = preview.edit.new_name or preview.edit.rule
    after = next((r for r in preview.new_config.rules if r.name == name), None)
    before = next((r for r in config.rules if r.name == preview.edit.rule), None)
    if before is not None and after is not None and _same_firings(before, after):
        return []  # wording, chats, severity or the name: what it would have done is what it did
    off = after is not None and not after.spec.enabled  # disabled: it never fires, whatever its condition says
    values = preview.edit.values
    label = " ".join([EDITED, *(f"{k}={v}" for k, v in values.items())])
    variants: list[tuple[str, Rule, dict[str, Any]]] = [
        (lbl, r, edits) for lbl, r, edits in ((AS_IS, before, {}), (label, None if off else after, values)) if r
    ]
    if not variants or not _has_data(store, before or after):
        return []
    found = replay_variants(store, config, variants, None)
    if off and after is not None and found:
        found.append(Variant(label, after, values, None, DISABLED))
    return found


def _same_firings(before: Rule, after: Rule) -> bool:
    """Nothing that shapes the firings changed (the fingerprint, ignoring the name) and it is still as enabled."""
    renamed = Rule(before.spec.model_copy(update={"name": after.name}), before.params)
    return renamed.fingerprint == after.fingerprint and before.spec.enabled == after.spec.enabled


def _has_data(store: Store, rule: Rule | None) -> bool:
    """Prices to replay on: not an in-memory store, some prices, and every symbol of the rule stored."""
    if rule is None or str(store.path) == ":memory:" or store.count_prices() == 0:
        return False
    return stored_symbols(store.path, rule.symbols) == rule.symbols


@dataclass(frozen=True)
class Applied:
    """An edit written to the file: its record (None with ``unrecorded``, the store could not keep it) and the
    rules whose state ``rejudge`` re-evaluates on the new definition."""

    preview: Preview
    record: EditRecord | None
    again: list[str]
    unrecorded: str | None = None


def apply_edit(
    store: Store, config: Config, path: Path, preview: Preview, chat_id: int | None, undoes: int | None = None
) -> Applied:
    """Write the previewed edit (EditConflict when the file changed since) and record it; an edit the store
    cannot record is still in force, so the caller reloads and re-evaluates all the same."""
    again = rejudged(store, config, preview.new_config)
    try:
        record = save_edit(store, path, preview, chat_id, undoes=undoes)
    except EditNotRecorded as exc:
        return Applied(preview, None, again, str(exc))
    return Applied(preview, record, again)


def rejudge(store: Store, applied: Applied) -> dict[str, RuleState]:
    """Judge the rules the edit redefined afresh, so the state shown is the new rule's."""
    return reevaluate(store, applied.preview.new_config, applied.again) if applied.again else {}
