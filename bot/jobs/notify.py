"""What a new alert becomes: the sink the daily check hands its new alerts to (Prometheus' NotifyFunc).

Each firing gets its rule's track-record line (only when nothing after its day is stored, so a
check of a past day never quotes the future) and the chart of its metric, then is queued in the
outbox for every subscriber whose route it matches (or the rule's own chats), minus chats that
silenced its rule. The check calls this inside its transaction, so an alert is recorded and queued
together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.answers import chart_for_alert, render
from bot.config import Config
from bot.history import stats_line, universe_members
from bot.jobs.check import AlertSink
from bot.store import Store, outbox
from rules import Alert, Rule, track_symbols


def nothing_after(store: Store, config: Config, rule: Rule, day: dt.date) -> bool:
    """No close of the rule's symbols (universe members and tracked symbols too) after ``day``."""
    symbols = set(rule.symbols)
    symbols |= {s for s in track_symbols(rule) if s}  # what a track record measures (a CPI rule's: the indices)
    for u in rule.universes:
        symbols |= set(universe_members(store, config, u))
    latest = store.latest_date(sorted(symbols)) if symbols else store.latest_date()  # index seeks, not a scan
    return latest is None or day >= latest


def notifier(config: Config, now: Callable[[], dt.datetime] | None = None) -> AlertSink:
    """The sink of the running bot and of ``rotation-bot check``: track record, chart, outbox.

    ``now`` is the clock silences are judged by (the scheduler's, so a fake clock in tests holds here too).
    """

    def notify(store: Store, alerts: Sequence[Alert]) -> int:
        rules = {r.name: r for r in config.rules}
        anyone = bool(outbox.subscribers(store)) or any(a.chats is not None for a in alerts)
        out: list[Alert] = []
        photos: dict[str, bytes] = {}
        for a in alerts:
            rule = rules.get(a.rule)
            if a.kind == "firing" and rule is not None:
                line = stats_line(store, config, a.rule) if nothing_after(store, config, rule, a.date) else None
                a = replace(a, message=f"{a.message}\n{line}") if line else a
                png = chart_for_alert(store, config, a) if anyone else None
                if png:
                    photos[a.key] = png
            out.append(replace(a, message=render.alert_body(a.message, a.date)))  # the day, in every chat
        queued = outbox.enqueue_alerts(store, out, now=now() if now else None)
        outbox.attach_photos(store, photos)
        return queued

    return notify
