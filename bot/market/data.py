"""Build the rule engine's ``MarketData`` from the store, loading only what the rules need.

Loading history from SQLite is the expensive part of a check, so the symbols, universes and CPI
tables are read only when some enabled rule uses them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bot.config import Config
from bot.market.cpi import cpi_frame
from bot.store import Store
from bot.values import yahoo_symbol
from rules import MarketData, Rule


def universe_members(store: Store, config: Config, universe: str) -> tuple[str, ...]:
    """A list in config wins; otherwise the list cached in the store by the last fetch."""
    ucfg = config.settings.universes.get(universe)
    if ucfg is not None and ucfg.members:
        return tuple(yahoo_symbol(m) for m in ucfg.members)
    return store.universe(universe)


def membership_frame(
    spans: Sequence[tuple[str, str, str | None]], index: pd.DatetimeIndex, symbols: Sequence[str]
) -> pd.DataFrame:
    """Boolean date × symbol frame: was the symbol in the index on that day (start ≤ day < end)."""
    mask = np.zeros((len(index), len(symbols)), dtype=bool)
    col = {s: i for i, s in enumerate(symbols)}
    days = index.to_numpy()
    for symbol, start, end in spans:
        j = col.get(symbol)
        if j is None:
            continue
        lo = np.searchsorted(days, np.datetime64(start), side="left")
        hi = len(days) if end is None else np.searchsorted(days, np.datetime64(end), side="left")
        mask[lo:hi, j] = True
    return pd.DataFrame(mask, index=index, columns=list(symbols))


def load_market_data(
    store: Store,
    config: Config,
    rules: Sequence[Rule],
    end: dt.date | None = None,
    start: dt.date | None = None,
) -> MarketData:
    """Everything ``rules`` need, up to ``end`` (inclusive)."""
    symbols: set[str] = set()
    universes: dict[str, tuple[str, ...]] = {}
    membership_spans: dict[str, list[tuple[str, str, str | None]]] = {}
    uses_cpi = False
    for rule in rules:
        if not rule.spec.enabled:
            continue
        symbols |= rule.symbols
        uses_cpi |= rule.metric.uses_cpi
        for u in rule.universes:
            # The current list and the point-in-time spans stay apart: two rules on one universe may
            # ask for different membership modes.
            if u not in universes:
                universes[u] = universe_members(store, config, u)
                symbols |= set(universes[u])
            mode = getattr(rule.params, "membership", "current")
            if mode != "current" and u not in membership_spans:
                spans = store.membership_spans(u)
                if spans:
                    membership_spans[u] = spans
                    symbols |= {s for s, _, _ in spans}
    close, adj = store.load_prices(symbols, start=start, end=end)
    membership = {
        u: membership_frame(spans, pd.DatetimeIndex(close.index), sorted({s for s, _, _ in spans}))
        for u, spans in membership_spans.items()
    }
    cpi = None
    if uses_cpi:
        cpi = cpi_frame(store, config, end=end)
    return MarketData(close=close, adj_close=adj, universes=universes, membership=membership, cpi=cpi)
