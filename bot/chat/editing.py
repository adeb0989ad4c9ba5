"""Rules from the phone: /set, /enable, /disable, /watch and /rename preview a change of config.toml as a diff with
what the rule would have done, and write it only when the chat presses Apply.

config.toml stays the single source of truth: the edit goes through tomlkit (every comment and blank line kept),
is validated exactly as ``rules check`` validates, and is written atomically; if the file changed on disk after
the preview, Apply refuses and nothing is overwritten. Only editor chats (``[telegram] editor_chats``, and the
admins) may change anything; a preview lives in the running bot until Apply, Cancel, an hour or a restart.
Here are the commands, who may and the pending previews; the flow (what-if, write + record, undo) is ``bot.edits``,
shared with ``rules set``, and the words are ``bot.answers.edits``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import bot.config
import bot.edits
from bot.answers import applied_html, history_html, preview_html, unchanged_html, warning_html
from bot.chat.base import CommandContext, Reply, UsageError, off_loop
from bot.chat.buttons import Button
from bot.chat.watch import unstored, watch_table
from bot.config import Edit, EditConflict, Preview
from bot.errors import BotError
from rules import METRICS, RuleSpec

PREVIEW_TTL = dt.timedelta(hours=1)
HISTORY_LINES = 10
TEXT_KEYS = ("message", "description")  # free text: the rest of the line, spaces and all
RULE_KEYS = frozenset(RuleSpec.model_fields) | {k for m in METRICS.values() for k in m.params.model_fields}


@dataclass
class Pending:
    """A previewed edit waiting for its Apply: who asked, when, and the edit it undoes (for /undo)."""

    preview: Preview
    chat_id: int
    undoes: int | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def _editor(ctx: CommandContext) -> None:
    if not (ctx.admin or ctx.config.is_editor(ctx.chat_id)):  # admins (the console too) are editors
        raise BotError("only editor chats may change rules: add this chat to [telegram] editor_chats")


def _path(ctx: CommandContext) -> Path:
    if ctx.service.config_path is None:
        raise BotError("editing is unavailable here: the bot was started without a config file")
    return ctx.service.config_path


async def _propose(ctx: CommandContext, edit: Edit) -> Reply:
    """Preview ``edit``, replay the rule as it is and as edited, and offer Apply and Cancel."""
    _editor(ctx)
    return await _offer(ctx, bot.config.preview(_path(ctx), edit), None)


async def _offer(ctx: CommandContext, preview: Preview, undoes: int | None) -> Reply:
    if not preview.changed:
        return Reply(unchanged_html(preview))
    now = dt.datetime.now(dt.UTC)
    pending = ctx.service.pending_edits
    for stale in [k for k, p in pending.items() if now - p.at > PREVIEW_TTL]:  # previews nobody pressed
        del pending[stale]
    token = secrets.token_hex(4)
    pending[token] = Pending(preview, ctx.chat_id, undoes)
    config = ctx.config
    # The replay runs off the event loop, like a chart.
    proposal = await off_loop(ctx, lambda store: bot.edits.propose(store, config, preview))
    buttons = ((Button("✅ Apply", "apply", None, (token,)), Button("✖ Cancel", "cancel", None, (token,))),)
    return Reply(preview_html(proposal), buttons=buttons)


# --- the commands ---------------------------------------------------------------------------------


async def cmd_set(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) < 3:
        raise UsageError
    pairs = set_pairs(args[1:])
    if len(pairs) == 1:
        return await _propose(ctx, Edit.set(args[0], *pairs[0]))  # Edit.set reads it as TOML
    return await _propose(ctx, Edit.update(args[0], pairs))


def set_pairs(words: list[str]) -> list[tuple[str, str]]:
    """``threshold 0.41 hysteresis 0.005`` → two pairs: a value is one word when a new key of a rule follows it;
    otherwise, and always for a text key (``message Small caps lead``), it is the rest of the line."""
    pairs: list[tuple[str, str]] = []
    while len(words) > 2 and words[0] not in TEXT_KEYS and words[2] in RULE_KEYS - {k for k, _ in pairs} - {words[0]}:
        pairs.append((words[0], words[1]))
        words = words[2:]
    if len(words) < 2:
        raise UsageError(f"{words[0]} needs a value")
    return [*pairs, (words[0], " ".join(words[1:]))]


async def cmd_enable(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    return await _propose(ctx, Edit.enable(args[0]))


async def cmd_disable(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    return await _propose(ctx, Edit.disable(args[0]))


async def cmd_rename(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 2:
        raise UsageError
    return await _propose(ctx, Edit.rename(args[0], args[1]))


async def cmd_watch(ctx: CommandContext, args: list[str]) -> Reply:
    """``/watch METRIC PARAM… CONDITION THRESHOLD`` (or ``… between LOW HIGH``): a new rule from one line."""
    edit = Edit.add(watch_table(args))
    _editor(ctx)
    preview = bot.config.preview(_path(ctx), edit)
    unstored(next(r for r in preview.new_config.rules if r.name == preview.edit.rule), ctx.store.symbols())
    return await _offer(ctx, preview, None)


async def cmd_apply(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    _editor(ctx)
    pending = _take(ctx, args[0])
    try:
        applied = bot.edits.apply_edit(
            ctx.store, ctx.config, _path(ctx), pending.preview, ctx.chat_id, undoes=pending.undoes
        )
    except EditConflict as exc:
        return Reply(warning_html(str(exc)))
    reloaded = ctx.service.config_holder.reload()  # also when unrecorded: the file is written, the rules follow it
    states = await off_loop(ctx, lambda store: bot.edits.rejudge(store, applied)) if applied.again else {}
    new = applied.preview.new_config.rules
    return Reply(applied_html(applied.preview.summary, reloaded, states, new, applied.unrecorded))


async def cmd_cancel(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    _take(ctx, args[0])
    return Reply("Cancelled: nothing was written.")


def _take(ctx: CommandContext, token: str) -> Pending:
    """The chat's own pending preview, once; a stale, foreign or unknown token is one clear line."""
    pending: Pending | None = ctx.service.pending_edits.get(token)
    now = dt.datetime.now(dt.UTC)
    if pending is None or pending.chat_id != ctx.chat_id or now - pending.at > PREVIEW_TTL:
        raise BotError("this preview is no longer open (applied, cancelled, expired or from a restart): edit again")
    del ctx.service.pending_edits[token]
    return pending


async def cmd_history(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UsageError
    rule = args[0] if args else None
    return Reply(history_html(bot.edits.history(ctx.store, ctx.service.config_path, rule, HISTORY_LINES), rule))


async def cmd_undo(ctx: CommandContext, args: list[str]) -> Reply:
    if args:
        raise UsageError
    _editor(ctx)
    undo = bot.edits.preview_undo(ctx.store, _path(ctx))
    return await _offer(ctx, undo.preview, undo.record.id)
