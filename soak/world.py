"""The soak's world: which days it lives through, the config the bot runs with, and the store it starts from.

The world is built from the shared data (``../shared/data``) when it is there, so the soak exercises real
closes, real holidays and real alerts; without it, from generated random walks on the NYSE calendar, so the
soak still runs anywhere. Either way the bot sees the days one by one: the store starts with history up to
the day before the first soak day, and the faked yfinance answers each day with that day's rows only.
Everything lives in a work folder outside the repository (the shared data is read, never copied in).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
INDICES = ["^GSPC", "^RUT", "SPY", "RSP"]
UNIVERSE_SIZE = 40  # breadth over 40 members: the metric's real path, at a tenth of the daily cost
TOKEN = "123456:SOAK"
ADMIN, PRIVATE, GROUP = 1001, 1002, -2001  # the group is upgraded to a supergroup by one of the faults
SUPERGROUP = -1002001
CHATS = (ADMIN, PRIVATE, GROUP)
CANARY = "canary-never-fires"  # the rule the config-edit faults change: its alerts cannot depend on them

RULES = """
[[rules]]
name = "rut-spx-above-0.4"
metric = "ratio"
numerator = "^RUT"
denominator = "^GSPC"
condition = "crosses_above"
threshold = 0.4
hysteresis = 0.01
message = "Small caps gaining: Russell 2000 / S&P 500 at {value:.3f}, above {threshold}"

[[rules]]
name = "breadth-above-60"
metric = "breadth"
universe = "soak"
window = 200
condition = "crosses"
threshold = 60
message = "Breadth: {value:.1f}% of members above their 200-day average ({counted} counted)"

[[rules]]
name = "rut-beats-spx-5d"
metric = "relative"
symbol = "^RUT"
benchmark = "^GSPC"
days = 5
condition = "crosses"
threshold = 1
message = "Russell 2000 vs S&P 500 over 5 days: {value:+.1f} pt"

[[rules]]
name = "spx-up-1pct"
metric = "change"
symbol = "^GSPC"
days = 1
condition = "above"
threshold = 1
resolve = true
message = "S&P 500 up {value:.2f}% on the day"

[[rules]]
name = "spx-down-1pct"
metric = "change"
symbol = "^GSPC"
days = 1
condition = "below"
threshold = -1
message = "S&P 500 down {value:.2f}% on the day"

[[rules]]
name = "spy-crosses-20d"
metric = "sma_distance"
symbol = "SPY"
window = 20
condition = "crosses"
threshold = 0
message = "SPY crossed its 20-day average ({value:+.2f}%)"

[[rules]]
name = "rsp-spy-above-200d"
metric = "sma_distance"
symbol = "RSP"
denominator = "SPY"
window = 200
condition = "crosses_above"
threshold = 0
message = "Equal weight gaining: RSP / SPY crossed above its 200-day average ({value:+.2f}%)"

[[rules]]
name = "canary-never-fires"
metric = "close"
symbol = "^GSPC"
condition = "crosses_above"
threshold = 1000000000
message = "canary"
"""


@dataclass(frozen=True)
class World:
    """What the driver and the bot process agree on; written to ``world.json`` in the work folder."""

    folder: str
    source: str  # the shared data folder, or "generated"
    symbols: list[str]
    days: list[str]  # the soak's trading days, ISO
    base_url: str

    @property
    def path(self) -> Path:
        return Path(self.folder)

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def store_path(self) -> Path:
        return self.path / "store.sqlite"

    @property
    def control_path(self) -> Path:
        return self.path / "control.json"

    def save(self) -> None:
        (self.path / "world.json").write_text(json.dumps(asdict(self)))

    @staticmethod
    def load(folder: Path) -> World:
        return World(**json.loads((folder / "world.json").read_text()))


def nyse_days(first: str, last: str) -> list[dt.date]:
    import exchange_calendars as xcals

    sessions = xcals.get_calendar("XNYS").sessions_in_range(first, last)
    return [d.date() for d in sessions]


def price_files(source: Path) -> dict[str, Path]:
    files = {s: source / "indices" / f"{s}.csv" for s in INDICES}
    members = pd.read_csv(source / "sp500" / "members.csv")
    old = members[members["price_first"] <= "2010-06-30"]["symbol"].astype(str).sort_values()
    for s in old.iloc[:: max(1, len(old) // UNIVERSE_SIZE)].iloc[:UNIVERSE_SIZE]:
        files[s] = source / "sp500" / "prices" / f"{s}.csv"
    return files


def read_prices(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
    frame["close"] = frame["close"].fillna(frame["adj_close"])
    frame["adj_close"] = frame["adj_close"].fillna(frame["close"])
    return frame[["close", "adj_close"]].dropna()


def generated_prices(rng: random.Random, days: list[dt.date]) -> dict[str, pd.DataFrame]:
    """Random walks on the NYSE calendar, for a machine without the shared data."""
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days], name="date")
    gen = np.random.default_rng(rng.randrange(2**32))
    out = {}
    bases = {"^GSPC": 4000.0, "^RUT": 1600.0, "SPY": 400.0, "RSP": 140.0}
    for i, symbol in enumerate([*INDICES, *[f"M{i:02d}" for i in range(UNIVERSE_SIZE)]]):
        steps = gen.normal(0.0003, 0.011 if i < len(INDICES) else 0.018, len(index))
        close = bases.get(symbol, 50.0 + i) * np.exp(np.cumsum(steps))
        out[symbol] = pd.DataFrame({"close": close, "adj_close": close}, index=index)
    return out


def all_prices(world: World) -> dict[str, pd.DataFrame]:
    """Every row the world has (the bot process keeps these and serves them day by day)."""
    folder = world.path / "prices"
    return {s: pd.read_pickle(folder / f"{safe(s)}.pkl") for s in world.symbols}


def safe(symbol: str) -> str:
    return symbol.replace("^", "_")


def build(folder: Path, seed: int, n_days: int, base_url: str) -> World:
    """Pick the days, write prices, config and a warmed-up store: the bot's state the evening before day 1."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if (SHARED / "indices" / "^GSPC.csv").exists():
        source = str(SHARED)
        frames = {s: read_prices(p) for s, p in price_files(SHARED).items()}
        sessions = [d for d in nyse_days("2011-06-01", "2025-11-28")]
    else:
        source = "generated"
        sessions = nyse_days("2019-01-02", "2025-11-28")
        frames = generated_prices(rng, sessions)
    start = rng.randrange(300, len(sessions) - n_days - 1)
    days = sessions[start : start + n_days]
    (folder / "prices").mkdir(exist_ok=True)
    history = folder / "history"
    history.mkdir(exist_ok=True)
    first = pd.Timestamp(days[0])
    for symbol, frame in frames.items():
        frame.to_pickle(folder / "prices" / f"{safe(symbol)}.pkl")
        before = frame[frame.index < first]
        out = before.assign(open="", high="", low="", volume="")[
            ["open", "high", "low", "close", "adj_close", "volume"]
        ]
        out.to_csv(history / f"{symbol}.csv", index_label="date", date_format="%Y-%m-%d")
    world = World(str(folder), source, sorted(frames), [d.isoformat() for d in days], base_url)
    world.save()
    write_config(world)
    prepare_store(world, sessions[start - 1])
    return world


def write_config(world: World) -> None:
    members = [s for s in world.symbols if s not in INDICES]
    chats = ", ".join(str(c) for c in CHATS)
    world.config_path.write_text(
        f"""# The soak's bot: the real service, pointed at the fake Bot API.
[store]
path = "store.sqlite"

[telegram]
api_base_url = "{world.base_url}"
allowed_chats = [{chats}]
admin_chats = [{ADMIN}]

[data]
symbols = {json.dumps(INDICES)}

[universes.soak]
members = {json.dumps(members)}

[digest]
enabled = true
time = "18:00"
{RULES}""",
        encoding="utf-8",
    )


def cli(world: World, *args: str) -> str:
    """Run ``rotation-bot`` on the soak's config (the same entry point a user runs)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(world.config_path), *args],
        cwd=world.path,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"rotation-bot {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def prepare_store(world: World, eve: dt.date) -> None:
    """History up to the eve of day 1, the rules warmed up on it, every chat subscribed."""
    cli(world, "fetch", "--source", "csv", "--path", str(world.path / "history"))
    cli(world, "check", "--as-of", eve.isoformat())
    from bot.store import Store, chats

    store = Store(world.store_path)
    try:
        for chat in CHATS:
            chats.subscribe(store, chat)
    finally:
        store.close()
    shutil.copy(world.store_path, world.path / "initial.sqlite")
    shutil.copy(world.config_path, world.path / "config.initial.toml")
