"""Benchmark: track records for all default rules over the full stored history (goal < 1 s).

Timed as ``rotation-bot stats`` runs with a cold cache: one replay of every rule over all history
straight from the store (breadth's members included) plus the forward moves. The note splits out
the engine part (replay and forward moves on data already in memory) and the cached read an alert
pays. Uses the benchmark store from ``benchmarks.common`` (real data when present).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import best_of, env, fmt_time
from bot.config.defaults import DEFAULT_RULES
from bot.config.settings import Config, parse_config
from bot.market.data import load_market_data
from bot.market.track import compute_track_records, track_records
from bot.store.db import Store
from rules import MarketData, replay
from rules.track import track_basis, track_horizons, track_record, track_symbols

GOAL_SECONDS = 1.0


def bench_config(store_path: Path) -> Config:
    return parse_config(
        {"store": {"path": str(store_path)}, "rules": DEFAULT_RULES}, path=store_path.parent / "config.toml"
    )


def engine_seconds(store: Store, config: Config, names: list[str]) -> float:
    """Replay plus forward moves on data already loaded (what the store read is not part of)."""
    rules = [r for r in config.rules if r.name in names]
    data = load_market_data(store, config, rules)
    symbols = {s for r in rules for s in track_symbols(r) if s}
    close, adj = store.load_prices(symbols)
    prices = MarketData(close=close, adj_close=adj)

    def once() -> None:
        result = replay(rules, data, dt.date(1900, 1, 1), data.close.index[-1].date())
        for r in rules:
            alerts = [a for a in result.alerts if a.rule == r.name]
            track_record(alerts, prices, track_symbols(r), track_horizons(r), basis=track_basis(r))

    return best_of(once)


def run() -> str:
    e = env()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "track.sqlite"
        shutil.copy(e.path, path)  # the cache table is written: never touch the shared bench store
        config = bench_config(path)
        store = Store(path)
        try:
            t0 = time.perf_counter()
            records, errors = compute_track_records(store, config, config.rules)
            cold = time.perf_counter() - t0
            engine = engine_seconds(store, config, list(records))
            track_records(store, config, list(records))  # fill the cache
            warm = best_of(lambda: track_records(store, config, list(records)))
        finally:
            store.close()
    firings = sum(len(r.firings) for r in records.values())
    skipped = f"; skipped {', '.join(sorted(errors))} (no data)" if errors else ""
    line = (
        f"track record: {cold:.2f} s for {len(records)} rules (goal < {GOAL_SECONDS:g} s) "
        f"{'PASS' if cold < GOAL_SECONDS else 'MISS'} — {firings} firings, {e.kind}; "
        f"engine only {fmt_time(engine)}, cached {fmt_time(warm)}{skipped}"
    )
    print(line, flush=True)
    return line


if __name__ == "__main__":
    run()
