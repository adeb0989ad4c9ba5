"""Delivery faults from an adversarial review: a store that cannot record, a late accept, a migrated group, a long text.

Each runs the real PTB Application (or Bot) against the fake Bot API (tests/fake_telegram.py). The
Application's own delivery job is run one pass at a time, exactly as its periodic loop runs it
(``Service.run_job``: an exception is logged and the job runs again), so nothing waits on the clock.

- The store stops accepting writes: the message Telegram accepted is not sent again and again; the
  pass stops, remembers the accepted rows, tells the admins once (directly), and records them as
  soon as the store is writable.
- Telegram accepts but answers after the read timeout: one retry with a much longer timeout, then
  the row is marked ``unknown`` and the admins are told once; the chat's later rows go on.
- A group became a supergroup: subscription, mute and queued rows move to the new id, which the
  config's allowed-chat check keeps; the admins are told once to update config.toml.
- Every queued text fits Telegram's limits: a long digest goes out as several messages, in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.error import TimedOut
from telegram.request import HTTPXRequest

from bot.answers.render import split_message
from bot.chat.service import Service
from bot.config.settings import Config
from bot.jobs import digest_text
from bot.jobs.scheduler import queue_daily_digest
from bot.store import chats, outbox
from bot.store.db import Store
from bot.telegram.delivery import backoff_seconds, deliver_pending, outcome_unknown
from rules import Alert
from tests.support.factories import make_config
from tests.support.fake_telegram import CAPTION_LIMIT, TEXT_LIMIT, Failure, FakeTelegram, Request, visible_length
from tests.support.tg_helpers import ADMIN, ALLOWED, RATIO_RULE, TOKEN, build, load_prices

A, B = ALLOWED, 222
GROUP, SUPERGROUP = -4001, -1004001  # a group, and the supergroup Telegram upgraded it to

Run = Callable[[], Awaitable[None]]


def config_for(tmp_path: Path, tg: FakeTelegram, rules: list[dict[str, object]] | None = None) -> Config:
    telegram = {"api_base_url": tg.base_url, "allowed_chats": [A, B, GROUP], "admin_chats": [ADMIN]}
    return make_config(tmp_path, extra={"telegram": telegram}, rules=rules or [RATIO_RULE])


@pytest.fixture
def service(tmp_path: Path, tg: FakeTelegram) -> Iterator[Service]:
    config = config_for(tmp_path, tg)
    store = Store(config.store_path)
    yield Service(config, store, config_path=tmp_path / "config.toml")
    store.close()


@asynccontextmanager
async def delivery_job(service: Service) -> AsyncIterator[Run]:
    """The Application initialised (getMe) but not polling; yields one run of its periodic delivery job."""
    app = build(service)  # request timeouts of 0.5 s
    await app.initialize()
    job = next(j for j in service.periodic if j.name == "delivery")
    try:
        yield lambda: service.run_job(job)
    finally:
        await app.shutdown()


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=tg.base_url, request=HTTPXRequest(read_timeout=5, connect_timeout=5)) as b:
        yield b


async def no_sleep(seconds: float) -> None:
    return None


def alert(rule: str, chats: tuple[int, ...] | None = None) -> Alert:
    return Alert(rule=rule, date=dt.date(2024, 7, 17), value=0.4, message=f"{rule} fired", chats=chats)


def rules_of(requests: Sequence[Request]) -> list[str]:
    """The rule names of the alerts in ``requests`` (the bold first line), in arrival order."""
    return [r.text.split("\n", 1)[0].removeprefix("🔔 <b>").removesuffix("</b>") for r in requests]


def statuses(store: Store) -> list[tuple[str, int, str]]:
    rows = store.db.execute("SELECT alert_key, chat_id, status FROM outbox ORDER BY id").fetchall()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


# --- 1. the store cannot record a send -----------------------------------------------------------


async def test_a_store_that_cannot_record_pauses_delivery_and_never_resends(
    tg: FakeTelegram, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """Marking a row sent fails ("attempt to write a readonly database"): today the same alert goes out every pass."""
    caplog.set_level(logging.INFO)
    store = service.store
    for chat in (A, B):
        chats.subscribe(store, chat)
    outbox.enqueue_alerts(store, [alert("r1"), alert("r2"), alert("r3")])
    store.db.execute("PRAGMA query_only = ON")  # the real SQLite error of a read-only file, on this connection
    async with delivery_job(service) as run:
        for _ in range(5):
            await run()
        # Each chat's first alert reached Telegram once; nothing after it was tried.
        assert rules_of(tg.accepted(A)) == rules_of(tg.accepted(B)) == ["r1"]
        assert outbox.counts(store) == {"pending": 6}
        # The admins were told once, directly (the outbox cannot take a row), and the log has one clear line.
        notices = tg.sent(ADMIN)
        assert len(notices) == 1 and "cannot record" in notices[0].text
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "cannot record" in errors[0].getMessage(), [r.getMessage() for r in errors]

        store.db.execute("PRAGMA query_only = OFF")  # disk freed, permissions fixed
        await run()
        assert outbox.counts(store) == {"sent": 6}
        assert rules_of(tg.accepted(A)) == rules_of(tg.accepted(B)) == ["r1", "r2", "r3"]
        await run()
    assert len(tg.sent(ADMIN)) == 1
    assert all(
        TOKEN not in r.getMessage() for r in caplog.records if r.name.startswith("bot.")
    )  # httpx's: redacted by run


# --- 2. Telegram accepts, then answers after the read timeout ------------------------------------


async def test_a_late_accept_is_retried_once_with_a_longer_timeout(tg: FakeTelegram, service: Service) -> None:
    """The first answer comes after the 0.5 s read timeout; the one retry waits long enough to see its answer."""
    chats.subscribe(service.store, A)
    outbox.enqueue_alerts(service.store, [alert("r1"), alert("r2")])
    tg.fail_next("sendMessage", Failure("late", delay=1.0), Failure("late", delay=1.0))
    async with delivery_job(service) as run:
        await run()
        # One duplicate at most: Telegram has r1 twice (the first answer never reached us), then r2.
        assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2"]
        assert outbox.counts(service.store) == {"sent": 2}
        await run()
    assert rules_of(tg.accepted()) == ["r1", "r1", "r2"]  # and no admin notice


async def test_an_unknown_outcome_is_marked_not_resent_and_reported_once(tg: FakeTelegram, service: Service) -> None:
    """Both answers come too late: r1 is marked unknown, r2 goes on, the admins learn which alert may be missing."""
    chats.subscribe(service.store, A)
    outbox.enqueue_alerts(service.store, [alert("r1"), alert("r2")])
    tg.fail_next("sendMessage", Failure("late", delay=4.5), Failure("late", delay=4.5))  # past even the 3 s retry
    async with delivery_job(service) as run:
        await run()
        assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2"]
        assert [s for s in statuses(service.store) if s[1] == A] == [
            ("r1|2024-07-17|firing", A, "unknown"),
            ("r2|2024-07-17|firing", A, "sent"),
        ]
        for _ in range(3):
            await run()
    assert rules_of(tg.accepted(A)) == ["r1", "r1", "r2"]  # never a loop
    notices = tg.sent(ADMIN)
    assert len(notices) == 1
    assert "r1|2024-07-17|firing" in notices[0].text and str(A) in notices[0].text


@pytest.mark.parametrize(
    ("cause", "unknown"),
    [
        (httpx.ConnectTimeout("connect"), False),  # never left: safe to retry with backoff, as before
        (httpx.PoolTimeout("pool"), False),
        (httpx.ReadTimeout("read"), True),  # left: Telegram may have the message
        (httpx.WriteTimeout("write"), True),
    ],
)
def test_which_timeouts_leave_the_outcome_unknown(cause: Exception, unknown: bool) -> None:

    try:
        raise TimedOut() from cause  # what PTB's HTTPXRequest raises
    except TimedOut as exc:
        assert outcome_unknown(exc) is unknown


async def test_a_send_that_never_left_is_retried_with_backoff_as_before(
    tg: FakeTelegram, store: Store, now: dt.datetime
) -> None:
    """A pool timeout (every connection busy) means Telegram cannot have the message: no slow retry, no ``unknown``."""
    chats.subscribe(store, A)
    outbox.enqueue_alerts(store, [alert("r1")])
    request = HTTPXRequest(connection_pool_size=1, pool_timeout=0.05, read_timeout=5)
    async with Bot(TOKEN, base_url=tg.base_url, request=request) as one_connection:
        tg.fail_next("getMe", Failure("late", delay=1.0))
        busy = asyncio.create_task(one_connection.get_me())  # holds the only connection for a second
        await tg.wait_until(lambda: len(tg.calls("getMe", outcome="late")) == 1)
        assert await deliver_pending(one_connection, store, now=now, sleep=no_sleep) == 0
        assert tg.calls("sendMessage", outcome=None) == []  # it never reached the server
        assert statuses(store) == [("r1|2024-07-17|firing", A, "pending")]
        await busy
        later = now + dt.timedelta(seconds=backoff_seconds(1))
        assert await deliver_pending(one_connection, store, now=later, sleep=no_sleep) == 1
    assert rules_of(tg.accepted(A)) == ["r1"]


# --- 3. a group upgraded to a supergroup ----------------------------------------------------------


async def test_a_group_upgraded_to_a_supergroup_follows_its_new_id(tg: FakeTelegram, service: Service) -> None:
    """Telegram answers "group chat was upgraded": today the row is retried forever and nothing reaches the new id."""
    store = service.store
    chats.subscribe(store, GROUP)
    outbox.enqueue_alerts(store, [alert("r1"), alert("r2")])
    tg.migrate(GROUP, SUPERGROUP)
    async with delivery_job(service) as run:
        await run()
        assert rules_of(tg.accepted(SUPERGROUP)) == ["r1", "r2"]
        assert chats.subscribers(store) == [SUPERGROUP]
        await run()  # the admins' notice, queued by the first pass
        notices = tg.sent(ADMIN)
        assert len(notices) == 1
        assert all(s in notices[0].text for s in (str(GROUP), str(SUPERGROUP), "config.toml"))
        # The config still names the old id; the delivery job's allowed-chat check keeps the new one.
        outbox.enqueue_alerts(store, [alert("r3"), alert("r4", chats=(GROUP,))])  # a rule's own chats name it too
        await run()
        await run()
    assert rules_of(tg.accepted(SUPERGROUP)) == ["r1", "r2", "r3", "r4"]
    assert chats.subscribers(store) == [SUPERGROUP]
    assert len(tg.calls("sendMessage", GROUP, outcome=None)) == 1  # the one refusal that told us
    assert len(tg.sent(ADMIN)) == 1


def test_moving_a_chat_keeps_its_mute_and_its_place_in_the_config(store: Store, now: dt.datetime) -> None:
    chats.subscribe(store, GROUP)
    chats.mute(store, GROUP, now + dt.timedelta(hours=2))
    outbox.queue_text(store, "r1|2024-07-17|firing", GROUP, "r1 fired")
    chats.migrate_chat(store, GROUP, SUPERGROUP)
    assert chats.subscribers(store) == [SUPERGROUP]
    assert chats.muted_chats(store, now) == {SUPERGROUP}
    assert [r.chat_id for r in outbox.pending_rows(store)] == [SUPERGROUP]
    assert chats.drop_chats_not_allowed(store, {GROUP}) == []
    assert chats.drop_chats_not_allowed(store, {A}) == [SUPERGROUP]  # the old id gone from the config: dropped


# --- 4. every queued text fits Telegram's limits --------------------------------------------------


def many_rules(n: int) -> list[dict[str, object]]:
    return [
        {**RATIO_RULE, "name": f"small-caps-versus-large-caps-line-{i:03d}", "threshold": round(0.30 + i / 1000, 3)}
        for i in range(n)
    ]


async def test_a_long_digest_goes_out_as_several_messages_in_order(
    tg: FakeTelegram, bot: Bot, tmp_path: Path, now: dt.datetime
) -> None:
    """A digest of 150 rules is queued whole today, and Telegram refuses it ("message is too long")."""

    tg.enforce_limits = True
    config = config_for(tmp_path, tg, rules=many_rules(150))
    store = Store(config.store_path)
    try:
        load_prices(store)
        chats.subscribe(store, A)
        day = store.latest_date()
        assert day is not None
        whole = digest_text(store, config, as_of=day)
        assert len(whole) > TEXT_LIMIT
        assert queue_daily_digest(store, config, day, now) >= 2
        assert queue_daily_digest(store, config, day, now) == 0  # once per day, every part
        await deliver_pending(bot, store, now=now, sleep=no_sleep)
        keys = [k for k, _, _ in statuses(store)]
        assert outbox.counts(store) == {"sent": len(keys)}
    finally:
        store.close()
    parts = [r.text for r in tg.accepted(A)]
    assert keys == [f"@digest|{day}"] + [f"@digest|{day}|{i}" for i in range(2, len(parts) + 1)]
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == whole  # cut at line breaks, nothing lost, in order


def test_split_message_cuts_at_line_breaks_and_fits_every_line() -> None:

    lines = [f"<b>line {i}</b> &amp; more" for i in range(500)]
    parts = split_message("\n".join(lines), limit=1000)
    assert len(parts) > 1 and all(len(p) <= 1000 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert split_message("short") == ["short"]
    # A single line longer than a message loses its tags and its end, never its entities' integrity.
    (only,) = split_message("<b>" + "S&amp;P " * 300 + "</b>", limit=100)
    assert len(only) <= 100 and only.endswith("…") and "<b>" not in only
    body = only.removesuffix("…")
    assert html.escape(html.unescape(body), quote=False) == body  # no entity cut in half


async def test_admin_notices_and_captions_fit_too(
    tg: FakeTelegram, bot: Bot, service: Service, now: dt.datetime
) -> None:
    """An admin notice of 9,000 characters came out one character over the limit (its "⚠️ " prefix)."""
    tg.enforce_limits = True
    store = service.store
    chats.subscribe(store, A)
    await service.notify_admins("disk <full> & " * 700)
    long = Alert(rule="with-chart", date=dt.date(2024, 7, 17), value=0.4, message="S&P < 5000 " * 500)
    outbox.enqueue_alerts(store, [long, alert("plain")])
    outbox.attach_photos(store, {long.key: b"\x89PNG fake chart"})
    outbox.queue_text(store, "long-text|2024-07-17|firing", A, "x & y\n" * 2000)
    await deliver_pending(bot, store, now=now, sleep=no_sleep)
    assert outbox.counts(store) == {"sent": 4}, statuses(store)
    photo = tg.calls("sendPhoto", A)[0]
    assert visible_length(photo.text, "HTML") <= CAPTION_LIMIT
    for r in tg.accepted():
        assert visible_length(r.text, "HTML") <= (TEXT_LIMIT if r.method == "sendMessage" else CAPTION_LIMIT)


async def test_an_admin_notice_while_the_store_cannot_write_is_kept_and_queued_once_it_can(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the soak: a config reload's notice while the store was read-only raised out of notify_admins (a
    traceback from the config watcher) and the notice was lost. It waits in memory and goes with the next one."""
    store = service.store
    store.db.execute("PRAGMA query_only = ON")
    await service.notify_admins("config.toml reloaded: 8 rules")  # does not raise
    assert not [r for r in caplog.records if r.exc_info]
    assert any("cannot queue" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    store.db.execute("PRAGMA query_only = OFF")
    await service.notify_admins("the daily job ran")
    texts = [r[0] for r in store.db.execute("SELECT text FROM outbox ORDER BY id").fetchall()]
    admins = len(service.config.settings.telegram.admin_chats)
    assert texts == ["config.toml reloaded: 8 rules"] * admins + ["the daily job ran"] * admins
