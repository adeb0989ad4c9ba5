"""The status model, as `status --format json` prints it: last runs, freshness, stale data, outbox backlog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers.status import status_view
from bot.config import Config
from bot.store.db import Store
from tests.support.factories import make_config, price_frame

NY = ZoneInfo("America/New_York")


def health(store: Store, config: Config, now: dt.datetime) -> dict[str, Any]:
    return status_view(store, config, now).as_json()


def seeded(store: Store, last_day: str) -> None:
    frame = price_frame([100.0] * 5, start="2024-07-22")
    frame = frame[frame.index <= last_day]
    for s in ("^GSPC", "^RUT"):
        store.upsert_prices(s, frame)


def test_fresh_data_on_a_weekend_is_ok(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"data": {"symbols": ["^GSPC", "^RUT"]}})
    seeded(store, "2024-07-26")
    run = store.start_run("daily")
    store.finish_run(run, "ok", "fine")
    report = health(store, config, dt.datetime(2024, 7, 27, 12, 0, tzinfo=NY))
    assert report["ok"] is True and report["warnings"] == []
    assert report["trading_day"] is False and report["last_session"] == "2024-07-26"
    assert report["expected_close"] == "2024-07-26" and report["stale_symbols"] == []
    assert report["runs"]["daily"]["last_success"] is not None


def test_missing_close_after_a_session_is_stale(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"data": {"symbols": ["^GSPC", "^RUT"]}})
    seeded(store, "2024-07-25")
    before_check = health(store, config, dt.datetime(2024, 7, 26, 17, 0, tzinfo=NY))
    assert before_check["stale_symbols"] == []  # Friday's check time has not come yet
    after = health(store, config, dt.datetime(2024, 7, 26, 18, 0, tzinfo=NY))
    assert after["stale_symbols"] == ["^GSPC", "^RUT"]
    assert "stale data: no close for 2024-07-26 yet (latest stored 2024-07-25)" in after["warnings"]


def test_holiday_is_not_stale_and_outbox_backlog_is_reported(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, {"data": {"symbols": ["^GSPC"]}})
    store.upsert_prices("^GSPC", price_frame([1.0, 2.0], start="2024-07-02"))
    report = health(store, config, dt.datetime(2024, 7, 4, 20, 0, tzinfo=NY))  # Independence Day
    assert report["stale_symbols"] == []
    store.db.execute(
        "INSERT INTO outbox (alert_key, chat_id, text, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)",
        ["k", 1, "hi", "2024-07-04T10:00:00+00:00"],
    )
    store.db.conn.commit()
    store.mark_source("yahoo", ok=False, error="HTTP 503", next_retry="2024-07-04T21:00")
    report = health(store, config, dt.datetime(2024, 7, 4, 20, 0, tzinfo=NY))
    assert report["outbox"]["pending"] == 1
    assert any("1 alerts waiting in the outbox" in w for w in report["warnings"])
    assert "source yahoo: HTTP 503 (next try 2024-07-04T21:00)" in report["warnings"]
