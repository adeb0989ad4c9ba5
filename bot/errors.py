"""Errors raised by the bot's I/O edges.

Hierarchy::

    BotError                 base; str(exc) is a sentence a user can act on
    ├── ConfigFileError      config.toml unreadable or invalid (lists every problem)
    ├── StoreError           the SQLite file cannot be opened or is empty
    └── SourceUnavailable    a data source is down; names the source and when it will retry

Only the CLI and the Telegram error handler render them.
"""

from __future__ import annotations


class BotError(Exception):
    """Base class for errors the bot reports to a person."""


class ConfigFileError(BotError):
    """config.toml cannot be read or does not validate."""


class StoreError(BotError):
    """The store cannot be opened, or holds no data for the request."""


class SourceUnavailable(BotError):
    """A data source failed; ``source`` and ``retry_at`` say which and when we try again."""

    def __init__(self, source: str, reason: str, retry_at: str | None = None) -> None:
        self.source = source
        self.reason = reason
        self.retry_at = retry_at
        when = f"; will retry at {retry_at}" if retry_at else ""
        super().__init__(f"{source} unavailable: {reason}{when}")


# Where data comes from, as a hint names it: with no network (a fresh clone, a closed server) `rotation-bot fetch`
# alone fails, so the offline way is always named beside it.
FETCH_FIRST = (
    "run `rotation-bot fetch` first (offline: `rotation-bot fetch --source csv --path DIR`, DIR a folder of SYMBOL.csv "
    "files)"
)
FETCH_CPI = (
    "run `rotation-bot fetch --source fred` (offline: `rotation-bot fetch --source csv --path DIR`, DIR a folder "
    "holding CPIAUCSL.csv, CPILFESL.csv and release_dates.csv)"
)
