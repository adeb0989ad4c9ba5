"""The daily digest: one message, from the store, nothing persisted."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from bot.answers.digest import Digest, MetricBlock, RuleLine
from bot.answers.render import alert_html
from bot.jobs.check import digest_text, run_check
from bot.jobs.scheduler import queue_daily_digest
from bot.store import chats, outbox
from bot.store.db import Store
from rules import Alert
from tests.support.factories import DIGEST_DAYS, digest_ratio, make_config, price_frame, seed_digest
from tests.support.loads import count_loads


def test_digest_is_one_message_with_values_distances_pending_alerts_and_staleness(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)
    store.record_alerts([Alert("near", as_of, 0.489, "Ratio <b>near</b> the line", kind="firing")])
    states_before = store.load_states()
    text = digest_text(store, cfg, as_of=as_of)

    assert isinstance(text, str) and text.startswith(f"<b>Daily digest — {as_of}</b>")
    r = pd.Series(digest_ratio())
    last, day, week = r.iloc[-1], r.iloc[-1] - r.iloc[-2], r.iloc[-1] - r.iloc[-6]
    # both ratio rules share one metric line
    assert text.count("<b>AAA / BBB</b>") == 1
    assert f"<b>AAA / BBB</b>: {last:.4g}" in text
    assert f"day {day:+.3g}, week {week:+.3g}" in text
    assert f"near: {0.5 - last:.3g} below 0.5 (inactive)" in text
    assert f"pend: {last - 0.48:.3g} above 0.48 (pending 9 of 30 days)" in text
    assert "<b>Pending:</b> pend" in text
    assert "ccc: inside 5–20 (5 above 5, 10 below 20)" in text
    assert "<b>Alerts today:</b> 1" in text and "Ratio &lt;b&gt;near&lt;/b&gt; the line" in text
    ccc_last = price_frame(np.zeros(DIGEST_DAYS - 5)).index[-1].date()
    assert f"CCC: last close {ccc_last}" in text
    # nothing was saved: the digest never changes what the daily check will do
    assert store.load_states() == states_before
    assert store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1


def test_digest_mentions_unsent_alerts_and_rule_errors(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)
    rules = [
        {"name": "cross", "metric": "ratio", "numerator": "AAA", "denominator": "BBB", "condition": "crosses_above",
         "threshold": 0.4885},
        {"name": "broken", "metric": "close", "symbol": "ZZZ", "condition": "above", "threshold": 1},
    ]  # fmt: skip
    cfg = make_config(tmp_path, rules=rules)
    # a state as the daily job left it the day before: the crossing happens on as_of
    run_check(store, cfg, as_of=as_of - dt.timedelta(days=1))
    assert store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
    text = digest_text(store, cfg, as_of=as_of)
    assert "cross: " in text and "(not yet sent)" in text
    assert re.search(r"rule broken: .*ZZZ", text)
    assert store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0


def test_default_as_of_warns_when_the_latest_close_is_old(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)
    text = digest_text(store, cfg, today=as_of + dt.timedelta(days=10))
    assert f"latest close in the store is {as_of} (10 days ago)" in text
    assert "days ago" not in digest_text(store, cfg, today=as_of + dt.timedelta(days=1))


def test_daily_job_queues_one_digest_per_subscriber_held_until_digest_time(store: Store, tmp_path: Path) -> None:
    cfg, as_of = seed_digest(store, tmp_path)
    chats.subscribe(store, 11)
    chats.subscribe(store, 22)
    ny = ZoneInfo("America/New_York")
    assert as_of == dt.date(2024, 2, 23)  # a Friday
    after_check = dt.datetime(2024, 2, 23, 17, 31, tzinfo=ny)
    assert queue_daily_digest(store, cfg, as_of, after_check) == 2
    assert queue_daily_digest(store, cfg, as_of, after_check) == 0  # once per day, even if the job re-runs
    rows = outbox.pending_rows(store)
    assert [r.chat_id for r in rows] == [11, 22]
    assert {r.next_attempt_at for r in rows} == {"2024-02-23T23:00:00+00:00"}  # 18:00 in New York
    assert alert_html(rows[0]) == digest_text(store, cfg, as_of=as_of)  # already HTML: sent as is
    late = dt.datetime(2024, 2, 27, 1, 0, tzinfo=ny)  # Monday's job caught up after midnight
    queue_daily_digest(store, cfg, dt.date(2024, 2, 26), late)
    newest = outbox.pending_rows(store, only_chats=[11])[-1]
    assert newest.next_attempt_at == "2024-02-27T06:00:00+00:00"  # Monday evening has passed: due at once


def test_the_daily_digest_is_built_from_the_checks_reading_with_one_load(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evening job loads market data once (the check's) and projects one digest on every route."""
    cfg, as_of = seed_digest(store, tmp_path)
    run_check(store, cfg, as_of=as_of - dt.timedelta(days=1))
    chats.subscribe(store, 11)
    chats.subscribe(store, 22, chats.Route(("near",)))
    chats.subscribe(store, 33, chats.Route(("ccc", "pend")))
    loads = count_loads(monkeypatch)
    report = run_check(store, cfg, as_of=as_of)
    assert queue_daily_digest(store, cfg, as_of, dt.datetime(2030, 1, 1, tzinfo=dt.UTC), report.reading) == 3
    assert len(loads) == 1
    rows = {r.chat_id: r.text for r in outbox.pending_rows(store)}
    # each chat's part is what /digest shows it: the same as a digest computed for its rules alone
    assert rows[11] == digest_text(store, cfg, as_of=as_of)
    assert rows[22] == digest_text(store, cfg, as_of=as_of, only=("near",))
    assert rows[33] == digest_text(store, cfg, as_of=as_of, only=("pend", "ccc"))  # a route lists rules in order


def test_a_projection_orders_blocks_by_the_chats_first_rule() -> None:
    """Rules a (metric X), b (Y), c (X): a chat following b and c sees Y first, as a digest of b and c alone."""

    def block(label: str, *names: str) -> MetricBlock:
        return MetricBlock(label, None, False, None, None, tuple(RuleLine(n, "n/a", "inactive") for n in names), None)

    full = Digest(dt.date(2024, 1, 2), None, ("a", "b", "c"), (block("X", "a", "c"), block("Y", "b")), (), (), (), ())
    seen = full.project(("b", "c"))
    assert [(b.label, [r.name for r in b.rules]) for b in seen.blocks] == [("Y", ["b"]), ("X", ["c"])]
    assert seen.rules == ("b", "c") and seen.only == ("b", "c")
    assert full.project(()).rules == () and full.project(None) == full
