"""What a new alert becomes: the sink the daily check hands its new alerts to (Prometheus' NotifyFunc).

Each firing gets its rule's track-record line as of its own day (a check of a past day never quotes
what came after it: later firings and outcomes are left out, and base rates use windows complete by
then) and the chart of its metric (the charts of one check cut from one load of market data), then is
queued in the outbox for every subscriber whose route it matches (or the rule's own chats), minus chats that
silenced its rule. The check calls this inside its transaction, so an alert is recorded and queued
together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.answers import charts_for_alerts, render
from bot.config import Config
from bot.jobs.check import AlertSink
from bot.market import stats_lines
from bot.store import Store, chats, outbox
from rules import Alert


def notifier(config: Config, now: Callable[[], dt.datetime] | None = None) -> AlertSink:
    """The sink of the running bot and of ``rotation-bot check``: track record, chart, outbox.

    ``now`` is the clock silences are judged by (the scheduler's, so a fake clock in tests holds here too).
    """

    def notify(store: Store, alerts: Sequence[Alert]) -> int:
        rules = {r.name: r for r in config.rules}
        anyone = bool(chats.subscribers(store)) or any(a.chats is not None for a in alerts)
        firing = [a for a in alerts if a.kind == "firing" and a.rule in rules]
        tracks = stats_lines(store, config, [(a.rule, a.date) for a in firing]) if firing else []
        lines = dict(zip((a.key for a in firing), tracks, strict=True))
        out: list[Alert] = []
        firings: list[Alert] = []
        for a in alerts:
            if a.key in lines:
                line = lines[a.key]
                a = replace(a, message=f"{a.message}\n{line}") if line else a
                firings.append(a)
            out.append(replace(a, message=render.alert_body(a.message, a.date)))  # the day, in every chat
        # One load of market data for every chart of the check, not one per alert.
        charts = charts_for_alerts(store, config, firings) if anyone and firings else []
        photos = {a.key: png for a, png in zip(firings, charts, strict=False) if png}
        queued = outbox.enqueue_alerts(store, out, now=now() if now else None)
        outbox.attach_photos(store, photos)
        return queued

    return notify
