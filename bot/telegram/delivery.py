"""Deliver the outbox: oldest first, in order per chat, marked sent only once Telegram accepted.

Failures never lose a row. ``RetryAfter`` (flood control) is waited out, honouring
``retry_after``; network errors, 5xx answers and timeouts before the request left reschedule the
row with exponential backoff; ``Forbidden`` (the user blocked the bot) unsubscribes the chat and
drops its rows; a ``BadRequest`` (Telegram will never accept this message) marks the row failed so
it cannot block the chat's queue forever. A chat's later rows wait while an earlier one is being
retried, so alerts arrive in order. Muted chats keep their rows until the mute ends.

Three faults would otherwise send one alert again and again, so each has its own answer:

- a send that left without Telegram's answer (a late answer, a connection dropped or reset after
  the request was written; bot/telegram/sendfaults.py tells these from failures before it left):
  one more send at once, waiting much longer for the answer; unanswered again, the row is marked
  ``unknown``, the admins are told which alert to which chat may be missing, and the chat's later
  rows go on. Unanswered sends are counted in the outbox, so a restart cannot make a third;
- ``ChatMigrated`` (a group upgraded to a supergroup): the chat's subscription, mute and rows move
  to the new id (bot/store), delivery goes on there, and the admins are told to update the config;
- a store that cannot record (read-only, full disk): what Telegram accepted is kept in memory and
  recorded first once the store can write again; until then nothing is sent, and the admins are
  told once, directly (the outbox cannot take their notice).

The global rate (≈30 messages/s) and Telegram's flood waits are the Application's rate limiter
(bot/telegram/floodcontrol.py: a 429 holds only its chat); the per-chat limit (1 message/s) is paced
here, between consecutive sends to the same chat. Passes may overlap (the running bot starts one every
few seconds whether or not the last has ended), but never in one chat: a chat that a pass is still
sending to (waiting out a 429, a hung send) is left out of the next, so it holds nobody else's alerts
and no row of it goes twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import sqlite3
import weakref
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import groupby
from typing import Any, Protocol

from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.answers import CAPTION_LIMIT, render
from bot.chat import alert_buttons
from bot.store import Store, chats, iso, outbox
from bot.telegram.keyboards import keyboard
from bot.telegram.sendfaults import BACKOFF_MAX as BACKOFF_MAX  # re-exported: delivery's tests and callers
from bot.telegram.sendfaults import INLINE_RETRY_AFTER_MAX, retry_after_seconds
from bot.telegram.sendfaults import backoff_seconds as backoff_seconds
from bot.telegram.sendfaults import outcome_unknown as outcome_unknown

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: about one message per second into the same chat
READ_TIMEOUT = 10.0  # the bot's own read timeout, as bot/telegram/app.py configures it
UNKNOWN_RETRY_FACTOR = 6.0  # the one retry of a send that may have arrived waits this many read timeouts
MAX_UNANSWERED = 2  # sends of one row that may reach Telegram unanswered: the first and its one retry

Sleep = Callable[[float], Awaitable[None]]
# The chats a pass is sending to, per store: two passes sending to one chat would both send its rows.
_BUSY: weakref.WeakKeyDictionary[Store, set[int]] = weakref.WeakKeyDictionary()


class Sender(Protocol):
    """What delivery needs from a bot: PTB's ``Bot`` has it, and so does the console's printer."""

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        parse_mode: str = ...,
        read_timeout: float = ...,
        write_timeout: float = ...,
        reply_markup: Any = ...,
    ) -> Any: ...

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        *,
        caption: str = ...,
        parse_mode: str = ...,
        read_timeout: float = ...,
        write_timeout: float = ...,
        reply_markup: Any = ...,
    ) -> Any: ...


class Step(enum.Enum):
    SENT = "sent"  # Telegram accepted the row
    NEXT = "next"  # the row is done without being sent (refused, unknown): the chat goes on
    STOP = "stop"  # the chat waits (a retry is scheduled, the chat is gone, or the store cannot record)


@dataclass
class _Ledger:
    """Store writes this process owes: outcomes Telegram gave that the store could not record yet.

    While it holds any, nothing is sent: a row Telegram has but the store still calls pending would
    go out again on every pass. Each pass first retries them, oldest first. A restart loses them,
    like the instant between Telegram's answer and its record (see README).
    """

    writes: list[tuple[str, Callable[[], object]]] = field(default_factory=list)
    error: str | None = None  # why the store stopped recording
    told: bool = False  # the admins and the log heard of this outage


_LEDGERS: weakref.WeakKeyDictionary[Store, _Ledger] = weakref.WeakKeyDictionary()


@dataclass
class _Pass:
    """What one delivery pass shares between its chats."""

    bot: Sender
    store: Store
    now: dt.datetime
    sleep: Sleep
    interval: float
    admins: tuple[int, ...]
    slow_timeout: float
    ledger: _Ledger
    busy: set[int]  # chats some pass is sending to (this one's among them)

    def record(self, what: str, write: Callable[[], object]) -> bool:
        """Write to the store; when it cannot take the write, owe it (and so stop sending)."""
        if not self.ledger.writes:  # owed writes go first, in order
            try:
                write()
                return True
            except sqlite3.Error as exc:
                self.ledger.error = f"{type(exc).__name__}: {exc}"
        self.ledger.writes.append((what, write))
        return False


def _settle(ledger: _Ledger, store: Store) -> bool:
    """Retry the writes the store could not take, oldest first; True when none is left (delivery may send)."""
    while ledger.writes:
        try:
            ledger.writes[0][1]()
        except sqlite3.Error:
            return False
        ledger.writes.pop(0)
    if ledger.error is not None:
        log.warning("the store %s records again: delivery resumes", store.path)
    ledger.error, ledger.told = None, False
    return True


async def _send(bot: Sender, row: outbox.OutboxRow, timeout: float | None = None) -> None:
    """Send one row; ``timeout`` replaces the bot's read and write timeouts (the retry of an unknown outcome)."""
    extra: dict[str, Any] = {"parse_mode": ParseMode.HTML}
    if timeout is not None:
        extra.update(read_timeout=timeout, write_timeout=timeout)
    rule, _, rest = (row.alert_key or "").partition("|")
    if rule and not rule.startswith("@") and rest.endswith("|firing"):
        extra["reply_markup"] = keyboard(alert_buttons(rule))  # chart, track record, a day of quiet
    if row.photo:
        await bot.send_photo(row.chat_id, photo=row.photo, caption=render.alert_html(row, CAPTION_LIMIT), **extra)
    else:
        await bot.send_message(row.chat_id, render.alert_html(row), **extra)


async def _try_row(p: _Pass, row: outbox.OutboxRow) -> Step:
    """Send one row and record the outcome; ``ChatMigrated`` goes to the caller, which moves the chat.

    A row with an unanswered send on record gets its last one, waiting ``slow_timeout`` for the answer.
    Failures that never reached Telegram, or that it answered (429, 5xx), are retried later with backoff
    and do not use up that last send.
    """
    if row.unanswered >= MAX_UNANSWERED:
        return _unknown(p, row, "no sends left")  # (both on record, the mark unknown not: a store restored)
    timeout = p.slow_timeout if row.unanswered else None
    for _ in range(3):  # RetryAfter that the rate limiter did not already absorb
        try:
            await _send(p.bot, row, timeout)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if wait > INLINE_RETRY_AFTER_MAX:
                return _later(p, row, str(exc), wait)
            log.info("flood control: waiting %.1f s before retrying chat %s", wait, row.chat_id)
            await p.sleep(wait)
            continue
        except ChatMigrated:
            raise
        except Forbidden as exc:
            log.warning("chat %s blocked the bot (%s): unsubscribing it", row.chat_id, exc)
            p.record("unsubscribe", partial(chats.unsubscribe, p.store, row.chat_id, reason=f"forbidden: {exc}"))
            return Step.STOP
        except BadRequest as exc:
            log.error("Telegram refused outbox row %s for chat %s: %s", row.id, row.chat_id, exc)
            p.record("failed", partial(outbox.mark_failed, p.store, row.id, str(exc)))
            return Step.NEXT
        except (TelegramError, OSError) as exc:  # NetworkError, TimedOut, 5xx, …
            if outcome_unknown(exc):
                return await _unanswered(p, row, exc)
            delay = backoff_seconds(row.attempts + 1)
            log.warning("sending to chat %s failed (%s); retrying in %.0f s", row.chat_id, exc, delay)
            return _later(p, row, str(exc), delay)
        else:
            p.record("sent", partial(outbox.mark_sent, p.store, row.id))
            return Step.SENT
    return _later(p, row, "flood control", backoff_seconds(row.attempts))


async def _unanswered(p: _Pass, row: outbox.OutboxRow, exc: BaseException) -> Step:
    """A send left and got no answer (late, or the connection dropped): one more send now, or ``unknown``."""
    error = f"{type(exc).__name__}: {exc}"
    if row.unanswered + 1 >= MAX_UNANSWERED:
        return _unknown(p, row, error)
    log.warning(
        "no answer from Telegram for row %s to chat %s (%s), which may have it: sending once more,"
        " waiting up to %.0f s",
        row.id,
        row.chat_id,
        error,
        p.slow_timeout,
    )
    if not p.record("unanswered", partial(outbox.mark_unanswered, p.store, row.id, error)):
        return Step.STOP  # the first send is on record before the second goes: a restart cannot add a third
    return await _try_row(p, replace(row, attempts=row.attempts + 1, unanswered=row.unanswered + 1))


def _later(p: _Pass, row: outbox.OutboxRow, error: str, seconds: float) -> Step:
    """Try the row again in ``seconds`` (its unanswered sends, if any, stay on record)."""
    p.record("retry", partial(outbox.mark_retry, p.store, row.id, error, p.now + dt.timedelta(seconds=seconds)))
    return Step.STOP


def _unknown(p: _Pass, row: outbox.OutboxRow, error: str) -> Step:
    """Two sends left without Telegram's answer: mark the row ``unknown``, tell the admins once, go on.

    A third send could make a third copy, and a send on every pass a copy per pass; one missing
    alert the admins know about is the lesser harm.
    """
    log.error(
        "outbox row %s (%s) to chat %s: sent twice without Telegram's answer (last: %s); marked unknown,"
        " not sent again",
        row.id,
        row.alert_key,
        row.chat_id,
        error,
    )
    text = (
        f"Telegram did not confirm the alert {row.alert_key} to chat {row.chat_id}: it was sent twice and neither"
        " send was answered (a late answer or a dropped connection), so the chat may have it once, twice or not at"
        " all. It is not sent again: check that chat, and forward the alert by hand if it is missing."
    )
    admins = () if (row.alert_key or "").startswith(outbox.ADMIN) else p.admins  # no notice about a notice
    sent = row.unanswered < MAX_UNANSWERED  # this call follows a send (not a row found with none left)

    def write() -> None:
        with p.store.transaction():
            outbox.mark_failed(p.store, row.id, f"outcome unknown: {error}", status="unknown", unanswered=sent)
            for admin in admins:
                outbox.queue_text(p.store, f"{outbox.ADMIN}|unknown|{row.id}", admin, text)

    p.record("unknown", write)
    return Step.NEXT


def _migrate(p: _Pass, old: int, new: int) -> bool:
    """Move a group's subscription, mute and rows to its supergroup id and queue one notice for the admins."""
    log.warning("chat %s became the supergroup %s: moving its subscription and queued alerts there", old, new)
    text = (
        f"Telegram upgraded the group {old} to a supergroup with the new id {new}. Its subscription, mute"
        f" and queued alerts moved there, and alerts go to {new} from now on. Replace {old} with {new} in"
        " config.toml ([telegram] allowed_chats and admin_chats, and any rule's chats), then /reload."
    )

    def write() -> None:
        with p.store.transaction():
            chats.migrate_chat(p.store, old, new)
            for admin in p.admins:  # the key makes it once per group, however many rows still name it
                outbox.queue_text(p.store, f"{outbox.ADMIN}|migrated|{old}", admin, text)

    return p.record("migrate", write)


async def _deliver_chat(p: _Pass, rows: list[outbox.OutboxRow], moved: bool = False) -> int:
    """Send one chat's rows in order; stop at the first row that must wait, or when the store cannot record."""
    sent = 0
    for i, row in enumerate(rows):
        if p.ledger.writes:
            return sent  # the store could not record a send: sending more would repeat it later
        if row.next_attempt_at and row.next_attempt_at > iso(p.now):
            break  # an earlier failure scheduled this row later; later rows wait behind it
        if i:
            await p.sleep(p.interval)
        try:
            step = await _try_row(p, row)
        except ChatMigrated as exc:
            new = int(exc.new_chat_id)
            if moved or new == row.chat_id or new in p.busy or not _migrate(p, row.chat_id, new):
                return sent  # (a second move in one pass is not Telegram's behaviour: wait for the next)
            p.busy.add(new)  # its rows are this pass's now: no other pass may start on them
            try:
                return sent + await _deliver_chat(p, [replace(r, chat_id=new) for r in rows[i:]], moved=True)
            finally:
                p.busy.discard(new)
        if step is Step.SENT:
            sent += 1
        elif step is Step.STOP:
            return sent
    return sent


async def _deliver_one(p: _Pass, rows: list[outbox.OutboxRow]) -> int:
    """One chat's part of a pass; the chat is free for the next pass as soon as it is done, not the whole pass."""
    try:
        return await _deliver_chat(p, rows)
    finally:
        p.busy.discard(rows[0].chat_id)


async def _tell_admins_directly(p: _Pass) -> None:
    """The store cannot record: one log line, and one message to each admin chat, sent now, not queued."""
    held = sum(1 for what, _ in p.ledger.writes if what == "sent")
    p.ledger.told = True  # before the sends: a pass ending meanwhile must not tell them too
    log.error(
        "outbox delivery paused: the store %s cannot record (%s); %d message(s) Telegram accepted are held"
        " in memory and will not be sent again; delivery resumes once the store is writable",
        p.store.path,
        p.ledger.error,
        held,
    )
    text = render.delivery_paused(p.store.path, p.ledger.error or "", held)
    for admin in p.admins:
        try:
            await p.bot.send_message(admin, text, parse_mode=ParseMode.HTML)
        except (TelegramError, OSError) as exc:
            log.warning("could not tell admin chat %s that delivery is paused: %s", admin, exc)


async def deliver_pending(
    bot: Sender,
    store: Store,
    *,
    now: dt.datetime | None = None,
    only_chats: Collection[int] | None = None,
    skip_chats: Collection[int] = (),
    per_chat_interval: float = PER_CHAT_INTERVAL,
    sleep: Sleep = asyncio.sleep,
    admins: Collection[int] = (),
    read_timeout: float = READ_TIMEOUT,
) -> int:
    """Send every due outbox row; returns how many Telegram accepted.

    Chats are delivered concurrently (the rate limiter caps the total), each in order; a chat another
    pass is still sending to is left to that pass. ``now`` and ``sleep`` are injectable so tests can
    step time instead of waiting for it. ``admins`` hear of unknown outcomes, moved groups and a store
    that cannot record; ``read_timeout`` is the bot's own, which the retry of an unknown outcome
    multiplies by ``UNKNOWN_RETRY_FACTOR``.
    """
    ledger = _LEDGERS.setdefault(store, _Ledger())
    if not _settle(ledger, store):
        return 0  # still cannot record what Telegram already has: send nothing
    busy = _BUSY.setdefault(store, set())
    now = now or dt.datetime.now(dt.UTC)
    muted = chats.muted_chats(store, now)
    rows = [
        r
        for r in outbox.pending_rows(store, only_chats, skip_chats)
        if r.chat_id not in muted and r.chat_id not in busy
    ]
    if not rows:
        return 0
    slow = read_timeout * UNKNOWN_RETRY_FACTOR
    p = _Pass(bot, store, now, sleep, per_chat_interval, tuple(admins), slow, ledger, busy)
    per_chat = [list(g) for _, g in groupby(rows, key=lambda r: r.chat_id)]
    busy.update(chat_rows[0].chat_id for chat_rows in per_chat)  # before the first await: no other pass takes them
    results = await asyncio.gather(*(_deliver_one(p, chat_rows) for chat_rows in per_chat))
    if ledger.writes and not ledger.told:
        await _tell_admins_directly(p)
    return sum(results)
