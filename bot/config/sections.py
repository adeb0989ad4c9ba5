"""The sections of config.toml as pydantic models: each key's type and bounds, and the checks of its values
(symbols, days, time zones, exchanges, names) that the CSV loaders and the store make alike. bot/config/settings.py
puts them together with the rules into one Config."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.exchanges import EXCHANGES, known_exchange
from bot.values import FIRST_DAY, LAST_DAY, hh_mm, is_symbol, iso_month, secret_url, yahoo_symbol
from rules import is_name

INT64_MAX = 2**63 - 1  # SQLite's INTEGER; also far beyond any chat id, window or count
DEFAULT_SYMBOLS = ["^GSPC", "^RUT", "^IXIC", "SPY", "IWM", "RSP"]
# What can mean a rotation (rules/rotation.py): below 2 pt a gap is a day or two of noise (a day's gap moves about
# 0.6 pt), and a rotation takes at least a week; a year is the most anyone asks about.
ROTATION_MIN_GAP = (2.0, 100.0)
ROTATION_MAX_DAYS = (5, 250)
SP500_MEMBERS_URL = "https://raw.githubusercontent.com/datasets/s-and-p-500-companies/main/data/constituents.csv"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StoreConfig(Section):
    path: str = "data/rotation-bot.sqlite"
    backups: str | None = Field(None, min_length=1)  # the running bot backs the store up there after each check
    keep: int = Field(7, ge=1, le=10000)


class MonitorConfig(Section):
    """A dead-man's switch: ``ping_url`` hears after every daily job, so its silence says the bot is down."""

    ping_url: str | None = None

    @field_validator("ping_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else secret_url(v)


class TelegramConfig(Section):
    api_base_url: str = "https://api.telegram.org/bot"
    token_env: str = "TELEGRAM_BOT_TOKEN"
    token_file: str | None = None
    allowed_chats: list[int] = Field(default_factory=list)
    admin_chats: list[int] = Field(default_factory=list)
    editor_chats: list[int] = Field(default_factory=list)
    messages_per_second: float = Field(25.0, gt=0, le=30)


class UniverseConfig(Section):
    """Where a universe's member list comes from: inline ``members`` win over ``source``."""

    source: str | None = None
    members: list[str] | None = None
    membership_source: str | None = None

    @field_validator("members")
    @classmethod
    def _tickers(cls, v: list[str] | None) -> list[str] | None:
        for m in v or []:
            if not is_symbol(yahoo_symbol(m)):
                raise ValueError(f'expected tickers like "BRK.B", got "{m}"')
        return v


class DataConfig(Section):
    symbols: list[str] = Field(default_factory=lambda: list(DEFAULT_SYMBOLS))
    history_start: dt.date = Field(dt.date(2000, 1, 1), strict=False)
    batch_size: int = Field(100, ge=1, le=100)
    retries: int = Field(4, ge=0, le=20)
    fred_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: list[str]) -> list[str]:
        """Fetched and stored as written: the store's alphabet, said as a rule's symbol field says it."""
        for s in v:
            if not is_symbol(s):
                near = yahoo_symbol(s)
                hint = f'; did you mean "{near}"?' if is_symbol(near) else ""
                shown = json.dumps(s)
                raise ValueError(f"expected a symbol as Yahoo spells it (^GSPC, BRK-B, ES=F), got {shown}{hint}")
        return v

    @field_validator("history_start")
    @classmethod
    def _first_day(cls, v: dt.date) -> dt.date:
        """The days any stored date may name: 0001-01-01 would be asked of Yahoo, then overflow a look-back."""
        if not FIRST_DAY <= v <= LAST_DAY:
            raise ValueError(f'expected a day from {FIRST_DAY} to {LAST_DAY}, got "{v}"')
        return v


class ScheduleConfig(Section):
    timezone: str = "America/New_York"
    daily_check: str = "17:30"
    cpi_check: str = "08:35"
    exchange: str = "XNYS"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'expected a time zone like "America/New_York", got "{v}"') from None
        return v

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, v: str) -> str:
        """An unknown name would pass here and stop the scheduler at its first session question."""
        if not known_exchange(v):
            close = difflib.get_close_matches(v, sorted(EXCHANGES), n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            raise ValueError(f'unknown exchange "{v}"; {hint}(exchange-calendars\' names, e.g. XNYS, XNAS, XLON)')
        return v

    @field_validator("daily_check", "cpi_check")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        return hh_mm(v)  # as the CSV loaders and the store check it


class Consensus(Section):
    month: str
    measure: Literal["headline_mom", "headline_yoy", "core_mom", "core_yoy"]
    expected: float

    @field_validator("month")
    @classmethod
    def _month(cls, v: str) -> str:
        return iso_month(v)


class CpiConfig(Section):
    consensus: list[Consensus] = Field(default_factory=list)
    release_dates: str | None = None


class DigestConfig(Section):
    enabled: bool = False
    time: str = "18:00"

    _hhmm = field_validator("time")(ScheduleConfig._hhmm.__func__)  # type: ignore[attr-defined]


class RotationConfig(Section):
    """What counts as a small-cap rotation for ``rotation`` and /rotation: the Russell 2000 beating the
    S&P 500 by at least ``min_gap`` points within at most ``max_days`` trading days, each within the bounds above."""

    min_gap: float = Field(8.0, ge=ROTATION_MIN_GAP[0], le=ROTATION_MIN_GAP[1], allow_inf_nan=False)
    max_days: int = Field(45, ge=ROTATION_MAX_DAYS[0], le=ROTATION_MAX_DAYS[1])


class Settings(Section):
    store: StoreConfig = Field(default_factory=StoreConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    universes: dict[str, UniverseConfig] = Field(
        default_factory=lambda: {"sp500": UniverseConfig(source=SP500_MEMBERS_URL)}
    )
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    cpi: CpiConfig = Field(default_factory=CpiConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    rotation: RotationConfig = Field(default_factory=RotationConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    @field_validator("universes")
    @classmethod
    def _universe_names(cls, v: dict[str, UniverseConfig]) -> dict[str, UniverseConfig]:
        """A universe is named in rules and keyed in the store: the alphabet of rule names."""
        for name in v:
            if not is_name(name):
                shown = json.dumps(name)
                raise ValueError(f'a universe name is letters, digits, ".", "_" and "-" (like sp500), got {shown}')
        return v
