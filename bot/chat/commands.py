"""The bot's commands, in one table that feeds the Telegram handlers, /help, the command menu
(``set_my_commands``) and the console.

A command is ``async def cmd(ctx, args) -> Reply``: parse the arguments, ask bot/queries, render
with bot/render. It never touches Telegram, so the console runs the very same functions. Bad
arguments raise ``UsageError`` and the caller answers with the command's usage line; a
``BotError``/``RuleError`` becomes one line of text, never a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.answers import digest_text, e, render, render_chart, views
from bot.calendar import CHART_PERIODS
from bot.chat.service import Service
from bot.config import Config, reload_config
from bot.errors import BotError
from bot.history import find_rule, parse_consensus_args, set_consensus, track_record_for
from bot.store import Store, outbox
from rules import RuleError

CONSOLE_CHAT = 0  # the console's chat id: allowed and admin, never a real Telegram chat
MAX_ALERTS = 30
MAX_MUTE = dt.timedelta(days=90)


@dataclass(frozen=True)
class Reply:
    """An answer: HTML text, and a PNG when the answer is a chart (the text is then its caption)."""

    text: str
    photo: bytes | None = None


@dataclass(frozen=True)
class CommandContext:
    """Who asks (chat id, admin or not) and the running service (config, store, schedule)."""

    service: Service
    chat_id: int
    admin: bool = False

    @property
    def config(self) -> Config:
        return self.service.config

    @property
    def store(self) -> Store:
        return self.service.store


class UsageError(Exception):
    """The arguments do not fit the command; the caller replies with its usage line."""


CommandFn = Callable[[CommandContext, list[str]], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    fn: CommandFn
    help: str
    usage: str = ""
    admin: bool = False
    hint: str = ""  # an example and the limits, shown with the usage line after a mistake

    @property
    def usage_line(self) -> str:
        line = f"Usage: /{self.name} {self.usage}".rstrip()
        return f"{line} ({self.hint})" if self.hint else line


def _no_args(args: list[str]) -> None:
    if args:
        raise UsageError


# --- the commands -------------------------------------------------------------------------------


async def cmd_start(ctx: CommandContext, args: list[str]) -> Reply:
    return Reply(
        "👋 <b>rotation-bot</b> watches the Russell 2000 / S&amp;P 500 ratio, S&amp;P 500 breadth and CPI "
        "surprises, and alerts you when a rule fires.\n"
        "Send /subscribe to get alerts, /ratio for today's ratio, /help for every command."
    )


async def cmd_help(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    lines = ["<b>Commands</b>"]
    for c in COMMANDS:
        if c.admin and not ctx.admin:
            continue
        usage = f" {e(c.usage)}" if c.usage else ""
        lines.append(f"/{c.name}{usage} — {e(c.help)}{' (admin)' if c.admin else ''}")
    return Reply("\n".join(lines))


async def cmd_ratio(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    return Reply(render.ratio(views.ratio_view(ctx.store, ctx.config)))


async def cmd_breadth(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    return Reply(render.breadth(views.breadth_views(ctx.store, ctx.config)))


async def cmd_cpi(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    return Reply(render.cpi(views.cpi_view(ctx.store, ctx.config)))


async def cmd_status(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    view = views.status_view(ctx.store, ctx.config, ctx.service.next_runs(), ctx.service.last_error)
    return Reply(render.status(view))


async def cmd_rules(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    return Reply(render.rules(views.rule_lines(ctx.store, ctx.config)))


async def cmd_alerts(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UsageError
    try:
        n = int(args[0]) if args else 5
    except ValueError:
        raise UsageError from None
    if not 1 <= n <= MAX_ALERTS:
        raise UsageError
    return Reply(render.alerts(views.recent_alerts(ctx.store, n)))


async def cmd_subscribe(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    if outbox.subscribe(ctx.store, ctx.chat_id):
        return Reply("✅ Subscribed: this chat will get every alert. /unsubscribe stops them, /mute pauses them.")
    return Reply("This chat is already subscribed.")


async def cmd_unsubscribe(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    if outbox.unsubscribe(ctx.store, ctx.chat_id):
        return Reply("Unsubscribed: no more alerts here. /subscribe brings them back.")
    return Reply("This chat was not subscribed.")


_DURATION = re.compile(r"^(\d{1,4})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> dt.timedelta:
    """``30m``, ``2h``, ``3d`` or ``1w``, up to 90 days; ValueError otherwise."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise ValueError(text)
    span = dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    if not dt.timedelta(0) < span <= MAX_MUTE:
        raise ValueError(text)
    return span


async def cmd_mute(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        raise UsageError
    try:
        span = parse_duration(args[0])
    except ValueError:
        raise UsageError from None
    until = dt.datetime.now(dt.UTC) + span
    if not outbox.mute(ctx.store, ctx.chat_id, until):
        return Reply("This chat is not subscribed: /subscribe first.")
    return Reply(f"🔕 Muted until {until:%Y-%m-%d %H:%M} UTC. Alerts wait in the queue; /unmute sends them now.")


async def cmd_unmute(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    if outbox.unmute(ctx.store, ctx.chat_id):
        return Reply("🔔 Unmuted: queued alerts follow shortly.")
    return Reply("This chat is not muted.")


async def cmd_chart(ctx: CommandContext, args: list[str]) -> Reply:
    if not 1 <= len(args) <= 2 or (len(args) == 2 and args[1] not in CHART_PERIODS):
        raise UsageError
    metric, period = args[0], args[1] if len(args) == 2 else "1y"
    png = await _render_off_loop(ctx, metric, period)
    return Reply(f"{e(metric)}, {e(period)}", photo=png)


async def _render_off_loop(ctx: CommandContext, metric: str, period: str) -> bytes:
    """Draw in a worker thread with its own connection, at most CHART_WORKERS at once: a pile of
    ``/chart breadth max`` requests queues behind the slots while other chats' commands go on."""
    path = ctx.store.path
    if str(path) == ":memory:":  # a private in-memory store exists on this connection only
        return render_chart(ctx.store, ctx.config, metric, period)
    async with ctx.service.chart_slots:
        return await asyncio.to_thread(_render_with_own_store, path, ctx.config, metric, period)


def _render_with_own_store(path: Path, config: Config, metric: str, period: str) -> bytes:
    store = Store(path)  # SQLite connections stay in the thread that opened them
    try:
        return render_chart(store, config, metric, period)
    finally:
        store.close()


async def cmd_stats(ctx: CommandContext, args: list[str]) -> Reply:
    if len(args) != 1:
        names = ", ".join(r.name for r in ctx.config.rules) or "none configured"
        return Reply(e(f"Usage: /stats RULE — rules: {names}"))
    rule = find_rule(ctx.config, args[0])
    return Reply(render.stats_html(track_record_for(ctx.store, ctx.config, rule.name), rule))


async def cmd_digest(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    return Reply(digest_text(ctx.store, ctx.config))


async def cmd_reload(ctx: CommandContext, args: list[str]) -> Reply:
    _no_args(args)
    holder = ctx.service.config_holder
    if holder is None:
        return Reply("Reloading is unavailable here: the bot was started without a config file.")
    return Reply(e(reload_config(holder)))


async def cmd_consensus(ctx: CommandContext, args: list[str]) -> Reply:
    try:
        entry = parse_consensus_args(args)
    except ValueError as exc:
        return Reply(e(exc))
    set_consensus(ctx.store, entry.month, entry.measure, entry.expected)
    note = ""
    if any(c.month == entry.month and c.measure == entry.measure for c in ctx.config.settings.cpi.consensus):
        note = " (config.toml has an entry for this month and measure, and it wins)"
    pct = f"{entry.expected:.1f}" if round(entry.expected, 1) == entry.expected else f"{entry.expected:g}"
    return Reply(f"Consensus for CPI {e(entry.month)} {e(entry.measure)}: {pct}%{note}.")


COMMANDS: tuple[Command, ...] = (
    Command("start", cmd_start, "what this bot does"),
    Command("help", cmd_help, "every command, one line each"),
    Command("ratio", cmd_ratio, "Russell 2000 / S&P 500 ratio, its changes and distance to each rule"),
    Command("breadth", cmd_breadth, "share of S&P 500 members above their moving average"),
    Command("cpi", cmd_cpi, "latest CPI release against consensus, and the next release day"),
    Command("chart", cmd_chart, "chart of a metric with its alerts", "ratio|breadth|METRIC [1y|5y|max]"),
    Command("rules", cmd_rules, "each rule, its condition and state"),
    Command("stats", cmd_stats, "track record of a rule: what followed its alerts", "RULE"),
    Command("alerts", cmd_alerts, "recent alerts", f"[N, 1-{MAX_ALERTS}]"),
    Command("digest", cmd_digest, "today's summary of every metric"),
    Command("status", cmd_status, "data freshness, last and next run, last error"),
    Command("subscribe", cmd_subscribe, "get alerts in this chat"),
    Command("unsubscribe", cmd_unsubscribe, "stop alerts in this chat"),
    Command(
        "mute",
        cmd_mute,
        "pause alerts for a while (30m, 2h, 3d, 1w)",
        "DURATION",
        hint=f"e.g. /mute 4h or /mute 2d: a number and m, h, d or w, at most {MAX_MUTE.days} days",
    ),
    Command("unmute", cmd_unmute, "resume alerts now"),
    Command("reload", cmd_reload, "reload config.toml (keeps the last good rules on error)", admin=True),
    Command("consensus", cmd_consensus, "enter a CPI consensus forecast", "YYYY-MM MEASURE PERCENT", admin=True),
)
BY_NAME = {c.name: c for c in COMMANDS}


async def run_command(ctx: CommandContext, command: Command, args: list[str]) -> Reply:
    """Run one command with the checks every transport needs: admin only, usage, readable errors."""
    if command.admin and not ctx.admin:
        return Reply(f"/{command.name} is for admins only.")
    try:
        return await command.fn(ctx, args)
    except UsageError:
        return Reply(e(command.usage_line))
    except (BotError, RuleError) as exc:
        return Reply(f"⚠️ {e(exc)}")


def parse_line(line: str) -> tuple[str, list[str]] | None:
    """``"/ratio@my_bot 5"`` → ``("ratio", ["5"])``; None when the line is not a command."""
    parts = line.strip().split()
    if not parts or not parts[0].startswith("/") or len(parts[0]) < 2:
        return None
    name = parts[0][1:].split("@", 1)[0].lower()
    return name, parts[1:]


async def dispatch(ctx: CommandContext, line: str) -> Reply:
    """Answer one line of text, as the console and Telegram's fallback handler do."""
    parsed = parse_line(line)
    if parsed is None:
        return Reply("Commands start with /. Send /help for the list.")
    name, args = parsed
    command = BY_NAME.get(name)
    if command is None:
        return Reply(f"Unknown command /{e(name)}. Send /help for the list.")
    return await run_command(ctx, command, args)
