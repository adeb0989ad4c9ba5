"""The bot's commands, in one table that feeds the Telegram handlers, /help, the command menu
(``set_my_commands``) and the console.

A command is ``async def cmd(ctx, args) -> Reply``: parse the arguments, ask bot/answers (or bot/market),
render with bot/answers/render.py. It never touches Telegram, so the console runs the very same functions. Bad
arguments raise ``UsageError`` and the caller answers with the command's usage line; a
``BotError``/``RuleError`` becomes one line of text, never a traceback.
"""

from __future__ import annotations

import logging
import sqlite3

from bot.answers import DISCLAIMER, e, echo
from bot.chat.admin import cmd_consensus, cmd_reload
from bot.chat.ask import (
    cmd_alerts,
    cmd_breadth,
    cmd_chart,
    cmd_cpi,
    cmd_digest,
    cmd_ratio,
    cmd_rotation,
    cmd_rules,
    cmd_stats,
    cmd_status,
)
from bot.chat.base import MAX_ALERTS, MAX_MUTE, Command, CommandContext, Reply, UsageError
from bot.chat.buttons import parse_button
from bot.chat.editing import (
    cmd_apply,
    cmd_cancel,
    cmd_disable,
    cmd_enable,
    cmd_history,
    cmd_rename,
    cmd_set,
    cmd_undo,
    cmd_watch,
)
from bot.chat.subscriptions import (
    cmd_mute,
    cmd_silence,
    cmd_silences,
    cmd_subscribe,
    cmd_subscriptions,
    cmd_unmute,
    cmd_unsilence,
    cmd_unsubscribe,
)
from bot.errors import BotError
from bot.store import is_corrupt, store_fault
from rules import RuleError

log = logging.getLogger(__name__)


async def cmd_start(ctx: CommandContext, args: list[str]) -> Reply:
    return Reply(
        "👋 <b>rotation-bot</b> watches the Russell 2000 / S&amp;P 500 ratio, S&amp;P 500 breadth and CPI "
        "surprises, and alerts you when a rule fires.\n"
        "Send /subscribe to get alerts, /ratio for today's ratio, /help for every command.\n"
        f"<i>{e(DISCLAIMER)}</i>"
    )


async def cmd_help(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UsageError
    if args:
        return _help_for(args[0].lstrip("/").split("@", 1)[0].lower())
    lines = ["<b>Commands</b>"]
    for c in COMMANDS:
        if (c.admin and not ctx.admin) or not c.menu:
            continue
        usage = f" {e(c.usage)}" if c.usage else ""
        lines.append(f"/{c.name}{usage} — {e(c.help)}{' (admin)' if c.admin else ''}")
    lines.append(f"<i>{e(DISCLAIMER)}</i>")
    return Reply("\n".join(lines))


def _help_for(name: str) -> Reply:
    """``/help set``: what the command does, its usage line and its example."""
    command = BY_NAME.get(name)
    if command is None or not command.menu:
        return Reply(f"Unknown command /{echo(name)}. Send /help for the list.")
    return Reply(f"/{command.name} — {e(command.help)}{' (admin)' if command.admin else ''}\n{e(command.usage_line)}")


COMMANDS: tuple[Command, ...] = (
    Command("start", cmd_start, "what this bot does"),
    Command(
        "help", cmd_help, "every command, one line each; or one command's usage", "[COMMAND]", hint="e.g. /help set"
    ),
    Command("ratio", cmd_ratio, "Russell 2000 / S&P 500 ratio, its changes and distance to each rule"),
    Command("breadth", cmd_breadth, "share of S&P 500 members above their moving average"),
    Command("cpi", cmd_cpi, "latest CPI release against consensus, and the next release day"),
    Command("chart", cmd_chart, "chart of a metric with its alerts", "ratio|breadth|METRIC [1y|5y|max]", heavy=True),
    Command("rules", cmd_rules, "each rule, its condition and state"),
    Command(
        "stats",
        cmd_stats,
        "track record of a rule: what followed its alerts, against any day",
        "RULE [DATE]",
        heavy=True,
        hint="e.g. /stats rut-spx-above-0.4 or /stats rut-spx-above-0.4 2024-07-24 for what was known that day",
    ),
    Command(
        "rotation",
        cmd_rotation,
        "can the small-cap rotation continue? the move, the signals, every earlier rotation",
        "[DATE]",
        heavy=True,
        hint="e.g. /rotation or /rotation 2024-07-24 for what was known that day",
    ),
    Command("alerts", cmd_alerts, "recent alerts", f"[N, 1-{MAX_ALERTS}]"),
    Command("digest", cmd_digest, "today's summary of every metric"),
    Command("status", cmd_status, "data freshness, last and next run, last error"),
    Command(
        "subscribe",
        cmd_subscribe,
        "get alerts in this chat: every rule, or only some rules and/or a severity floor",
        "[RULE…] [severity>=LEVEL]",
        hint="e.g. /subscribe rut-spx-above-0.4 breadth-above-75 or /subscribe severity>=warning; "
        "LEVEL is info, warning or critical; both together: those rules at that level",
    ),
    Command("subscriptions", cmd_subscriptions, "what this chat receives: rules, severity floor, mute, silences"),
    Command("unsubscribe", cmd_unsubscribe, "stop alerts in this chat"),
    Command(
        "mute",
        cmd_mute,
        "pause alerts for a while (30m, 2h, 3d, 1w)",
        "DURATION",
        hint=f"e.g. /mute 4h or /mute 2d: a number and m, h, d or w, at most {MAX_MUTE.days} days",
    ),
    Command("unmute", cmd_unmute, "resume alerts now"),
    Command(
        "set",
        cmd_set,
        "change a rule's key, with a preview and Apply (editors)",
        "RULE KEY VALUE [KEY VALUE…]",
        hint="e.g. /set rut-spx-above-0.4 threshold 0.42 or /set rut-spx-above-0.4 threshold 0.41 hysteresis 0.005",
        heavy=True,
    ),
    Command("enable", cmd_enable, "switch a rule on, with a preview (editors)", "RULE", heavy=True),
    Command("disable", cmd_disable, "switch a rule off, with a preview (editors)", "RULE", heavy=True),
    Command(
        "watch",
        cmd_watch,
        "add a rule from one line, with a preview (editors)",
        "METRIC PARAM… CONDITION THRESHOLD",
        hint="e.g. /watch ratio ^RUT ^GSPC crosses_above 0.42 or /watch close SPY below 500",
        heavy=True,
    ),
    Command("rename", cmd_rename, "rename a rule, with a preview (editors)", "RULE NEW-NAME", heavy=True),
    Command("history", cmd_history, "the latest edits of config.toml", "[RULE]"),
    Command("undo", cmd_undo, "undo the latest edit, with a preview (editors)", heavy=True),
    Command("apply", cmd_apply, "write a previewed edit", "TOKEN", menu=False),
    Command("cancel", cmd_cancel, "drop a previewed edit", "TOKEN", menu=False),
    Command(
        "silence",
        cmd_silence,
        "stop one rule's alerts to this chat for a while (not delivered later)",
        "RULE DURATION [REASON…]",
        hint=f"e.g. /silence rut-spx-above-0.4 2d on holiday: a number and m, h, d or w, at most {MAX_MUTE.days} days",
    ),
    Command("silences", cmd_silences, "this chat's active silences, with expiry and reason"),
    Command("unsilence", cmd_unsilence, "end a silence now", "RULE", hint="e.g. /unsilence rut-spx-above-0.4"),
    Command("reload", cmd_reload, "reload config.toml (keeps the last good rules on error)", admin=True),
    Command("consensus", cmd_consensus, "enter a CPI consensus forecast", "YYYY-MM MEASURE PERCENT", admin=True),
)
BY_NAME = {c.name: c for c in COMMANDS}
# What a group upgraded to a supergroup may do before an admin puts its new id in allowed_chats: its own alerts.
OWN_SUBSCRIPTION: tuple[str, ...] = (
    *("start", "help", "subscribe", "subscriptions", "unsubscribe"),
    *("mute", "unmute", "silence", "silences", "unsilence"),
)


def _not_yet_allowed(ctx: CommandContext, command: Command) -> Reply | None:
    """The one line for a command an upgraded group may not use yet (None: go ahead)."""
    if ctx.admin or command.name in OWN_SUBSCRIPTION or ctx.config.is_allowed(ctx.chat_id):
        return None
    old = ctx.service.upgraded_from(ctx.chat_id)
    if old is None:
        return None  # the transport's own guard decided
    own = ", ".join(f"/{name}" for name in OWN_SUBSCRIPTION[2:])
    return Reply(
        f"This group became a supergroup: its chat id is now <code>{ctx.chat_id}</code> (it was <code>{old}</code>). "
        f"Until an admin replaces {old} with {ctx.chat_id} in <code>allowed_chats</code>, only {own} work here."
    )


async def run_command(ctx: CommandContext, command: Command, args: list[str]) -> Reply:
    """Run one command with the checks every transport needs: admin only, usage, readable errors."""
    if command.admin and not ctx.admin:
        return Reply(f"/{command.name} is for admins only.")
    try:
        refused = _not_yet_allowed(ctx, command)
        if refused is not None:
            return refused
        return await command.fn(ctx, args)
    except UsageError as exc:
        more = f" — {exc}" if str(exc) else ""  # e.g. the valid values
        return Reply(echo(command.usage_line + more))
    except (BotError, RuleError) as exc:
        return Reply(f"⚠️ {echo(exc)}")
    except sqlite3.OperationalError as exc:  # a read-only, full or locked store: one line naming it and the way out
        log.warning("command /%s: %s", command.name, exc)
        return Reply(f"⚠️ {e(store_fault(ctx.store.path, exc))}")
    except sqlite3.DatabaseError as exc:  # pages gone bad since the start check: the way out, as the CLI says it
        if not is_corrupt(exc):
            raise  # a closed or misused database is a bug, reported to the admins
        log.error("command /%s: the store is corrupt: %s", command.name, exc)
        return Reply(f"⚠️ {e(store_fault(ctx.store.path, exc))}")


def parse_line(line: str) -> tuple[str, list[str]] | None:
    """``"/ratio@my_bot 5"`` → ``("ratio", ["5"])``; None when the line is not a command."""
    parts = line.strip().split()
    if not parts or not parts[0].startswith("/") or len(parts[0]) < 2:
        return None
    name = parts[0][1:].split("@", 1)[0].lower()
    return name, parts[1:]


async def press(ctx: CommandContext, data: str) -> Reply:
    """Run the command a pressed button carries, with the checks typing it would get."""
    parsed = parse_button(data, ctx.config)
    command = BY_NAME.get(parsed[0]) if parsed else None
    if parsed is None or command is None:
        return Reply("This button is out of date: its rule is no longer configured. Send /rules or /help.")
    return await run_command(ctx, command, parsed[1])


async def dispatch(ctx: CommandContext, line: str) -> Reply:
    """Answer one line of text, as the console and Telegram's fallback handler do."""
    parsed = parse_line(line)
    if parsed is None:
        return Reply("Commands start with /. Send /help for the list.")
    name, args = parsed
    command = BY_NAME.get(name)
    if command is None:
        return Reply(f"Unknown command /{echo(name)}. Send /help for the list.")
    return await run_command(ctx, command, args)
