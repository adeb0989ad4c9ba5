"""The words of a config edit: its preview (diff, stale words, what-if, re-evaluations), what Apply did, and the
history. HTML for the chat; the command line prints the same lines through ``to_plain``, so both say one thing.

Every dynamic value is escaped with quotes too (a diff quotes TOML strings); plain text is cut before it is
escaped, because a tag or an entity cut in half makes Telegram refuse the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.answers.evidence import whatif_table
from bot.answers.render import clip, echo
from bot.config import Edit, Preview, StaleWords, stale_words
from bot.market import Variant
from bot.store.edits import EditRecord
from rules import Rule, RuleState, state_reason

COMMENT_LIMIT = 80
# A preview fits one Telegram message however long the edited value: the diff and the what-if, each cut; so do
# what Apply did and each /history line (a summary quotes both values whole).
SUMMARY_LIMIT, DIFF_LIMIT = 300, 1800
NOT_YET = "Nothing is written until you press Apply."


class Proposed(Protocol):
    """What a preview shows (``bot.edits.Proposal``, read here without importing the floor above)."""

    @property
    def preview(self) -> Preview: ...
    @property
    def rule(self) -> str: ...
    @property
    def variants(self) -> list[Variant]: ...
    @property
    def again(self) -> list[str]: ...
    @property
    def problem(self) -> str | None: ...


def esc(text: str) -> str:
    return echo(text, quote=True)  # a diff or a summary quotes what a chat or a hand edit wrote


def stale_note(stale: StaleWords, rule: str, rename: str = "/rename") -> str | None:
    """One line: the comments that still name a replaced value, and the rename when the name holds it (``rename``:
    the command that does it where the edit was made, the chat's or the command line's)."""
    if not stale:
        return None
    parts = []
    if stale.comments:
        quoted = "; ".join(f'"{clip(c.lstrip("#").strip(), COMMENT_LIMIT)}"' for c in stale.comments)
        parts.append(f"the comment{'s' if len(stale.comments) > 1 else ''} {quoted}")
    if stale.rename:
        parts.append(f"the name (rename it: {rename} {rule} {stale.rename})")
    return f"⚠️ still says {', '.join(stale.old)}: {' and '.join(parts)}"


def rejudge_note(again: Sequence[str]) -> str | None:
    return f"Applying re-evaluates the state of {', '.join(again)} on the new definition." if again else None


def preview_lines(
    diff: str, rule: str, variants: Sequence[Variant], again: Sequence[str] = (), notes: Sequence[str | None] = ()
) -> list[str]:
    """What the chat's preview and ``rules set`` show alike, as HTML lines: the diff, any notes, the what-if
    (the rule as it is and as edited), and the rules Apply re-evaluates."""
    lines = [f"<pre>{esc(diff)}</pre>", *(esc(n) for n in notes if n)]
    if variants:
        lines.append(f"<pre>{esc(whatif_table(rule, variants))}</pre>")
    if note := rejudge_note(again):
        lines.append(esc(note))
    return lines


def preview_html(p: Proposed) -> str:
    """The chat's preview: the summary, the shared lines fitted to one message, and that nothing is written yet."""
    preview = p.preview
    notes = [stale_note(stale_words(preview), preview.edit.rule), p.problem and f"⚠️ no what-if: {p.problem}"]
    diff = clip(preview.diff.strip(), DIFF_LIMIT)
    body = preview_lines(diff, p.rule, p.variants, p.again, notes)
    return "\n".join([f"<b>{esc(clip(preview.summary, SUMMARY_LIMIT))}</b>", *body, NOT_YET])


def applied_html(
    summary: str, reloaded: str, states: Mapping[str, RuleState], rules: Sequence[Rule], unrecorded: str | None
) -> str:
    """What Apply did: the edit, the reload, each re-evaluated state, and a warning when it was not recorded."""
    by_name = {r.name: r for r in rules}
    now = "".join(f"\n{n}: now {state_reason(by_name[n], st)}" for n, st in states.items())
    warning = f"\n⚠️ {esc(unrecorded)}" if unrecorded else ""
    return f"✅ Applied: {esc(clip(summary, SUMMARY_LIMIT))}\n{esc(reloaded + now)}{warning}"


def edit_summary(record: EditRecord) -> str:
    """What a recorded edit did, in one line (a set names the value it replaced, which its inverse holds)."""
    edit = Edit.from_json(record.edit_json)
    inverse = Edit.from_json(record.inverse_json) if record.inverse_json else None
    old = inverse.raw if inverse is not None and inverse.kind == "set" and edit.kind in ("set", "unset") else None
    return edit.describe(old, inverse) + (f" (undoes #{record.undoes})" if record.undoes else "")


def history_html(records: Sequence[EditRecord], rule: str | None) -> str:
    """The chat's /history: one line per edit, newest first."""
    if not records:
        return "No edits recorded" + (f" for {esc(rule)}." if rule else ".")
    lines = ["<b>Edits of config.toml</b>, newest first"]
    lines += [f"#{r.id} {esc(r.at[:16])} {esc(r.who)}: {esc(clip(edit_summary(r), SUMMARY_LIMIT))}" for r in records]
    return "\n".join(lines)


def unchanged_html(preview: Preview) -> str:
    """An edit the file already says: its summary, and no buttons."""
    return esc(preview.summary)


def warning_html(message: str) -> str:
    """A refused Apply (the file changed on disk since the preview): one line, nothing written."""
    return f"⚠️ {esc(message)}"
