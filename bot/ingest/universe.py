"""Universe member lists (``[universes.NAME]``): refreshed from a URL or file, cached in the store.

Breadth needs the current members, which change a few times a year. The list is downloaded at each
live fetch and stored, so a failed download keeps yesterday's list instead of breaking breadth; a
``members`` list in config.toml wins over any source.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.config import Config, UniverseConfig
from bot.store import Store
from bot.values import is_symbol, yahoo_symbol

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(20.0, connect=10.0)


@dataclass
class UniverseRefresh:
    """What one refresh did: how many members are now stored, from where, or why it kept the old list."""

    universe: str
    members: int
    source: str
    error: str | None = None


def parse_members(text: str) -> list[dict[str, str | None]]:
    """A member CSV with a Symbol column (any case; Name/Security and Sector/GICS Sector optional)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    symbol_col = fields.get("symbol") or fields.get("ticker")
    if symbol_col is None:
        raise ValueError(f"no Symbol column (columns: {', '.join(reader.fieldnames or []) or 'none'})")
    name_col = fields.get("name") or fields.get("security")
    sector_col = fields.get("sector") or fields.get("gics sector")
    members: dict[str, dict[str, str | None]] = {}
    for row in reader:
        raw = (row.get(symbol_col) or "").strip()
        if not raw:
            continue
        sym = yahoo_symbol(raw)
        if not is_symbol(sym):  # a "#N/A" from a spreadsheet: keep the stored list rather than store it
            raise ValueError(f'line {reader.line_num}: {symbol_col}: expected a ticker like BRK.B, got "{raw}"')
        members[sym] = {
            "symbol": sym,
            "name": (row.get(name_col) or "").strip() or None if name_col else None,
            "sector": (row.get(sector_col) or "").strip() or None if sector_col else None,
        }
    if not members:
        raise ValueError("the member list is empty")
    return list(members.values())


def _read_source(config: Config, source: str, client: httpx.Client | None) -> str:
    if source.startswith(("http://", "https://")):
        if client is not None:
            response = client.get(source)
        else:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as own:
                response = own.get(source)
        response.raise_for_status()
        return response.text
    return config.resolve(source).read_text(encoding="utf-8")


def refresh_universe(
    store: Store, config: Config, name: str, ucfg: UniverseConfig, client: httpx.Client | None = None
) -> UniverseRefresh:
    """Store the current member list of one universe; on failure keep the cached list and say why."""
    if ucfg.members:
        members = [{"symbol": yahoo_symbol(s)} for s in ucfg.members]
        return UniverseRefresh(name, store.set_universe(name, members, source="config.toml"), "config.toml")
    if not ucfg.source:
        return UniverseRefresh(name, len(store.universe(name)), "store", "no source or members configured")
    try:
        members_rows = parse_members(_read_source(config, ucfg.source, client))
    except (httpx.HTTPError, OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        why = _describe(exc)
        kept = len(store.universe(name))
        log.warning(
            "universe %s: cannot refresh from %s (%s); keeping the %d stored members", name, ucfg.source, why, kept
        )
        return UniverseRefresh(name, kept, "store", why)
    return UniverseRefresh(name, store.set_universe(name, members_rows, source=ucfg.source), ucfg.source)


def refresh_universes(store: Store, config: Config, client: httpx.Client | None = None) -> list[UniverseRefresh]:
    """Refresh every configured universe."""
    return [refresh_universe(store, config, n, u, client) for n, u in config.settings.universes.items()]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.host}"
    if isinstance(exc, FileNotFoundError):
        return f"no such file {Path(exc.filename or '').name or exc.filename}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
