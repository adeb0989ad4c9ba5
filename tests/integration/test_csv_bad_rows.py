"""A bad row in a CSV is refused where it enters, with its place, and nothing after it can crash.

Each test loads a good folder through the real CLI, then the same folder with one bad row in one file:
`fetch` must name the row as ``FILE:LINE: column: why``, store the good rows, keep what was stored
for the bad one, and exit 1; afterwards check, replay, /breadth and /cpi must still run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from bot.cli.main import main
from bot.config.settings import parse_config
from bot.errors import ConfigFileError, StoreError
from bot.ingest.sources.yahoo import split_download
from bot.ingest.universe import parse_members
from bot.store.db import Store

DAYS = [d.strftime("%Y-%m-%d") for d in pd.bdate_range("2024-06-03", periods=35)]  # to 2024-07-19
PRICE_HEADER = "date,open,high,low,close,adj_close,volume"
RULES = """rules = [  # a rule on each kind of data, so each kind has a reader that could crash on it
  {name = "ratio", metric = "ratio", numerator = "^RUT", denominator = "^GSPC", condition = "above", threshold = 0.4},
  {name = "breadth", metric = "breadth", universe = "sp500", window = 5, condition = "above", threshold = 75},
  {name = "cpi", metric = "cpi_surprise", measure = "headline_yoy", condition = "below", threshold = -0.05},
]
"""


def price_lines(start: float, step: float) -> list[str]:
    return [PRICE_HEADER] + [f"{d},1,1,1,{start + i * step:g},{start + i * step:g},100" for i, d in enumerate(DAYS)]


GOOD = {
    "indices/^RUT.csv": price_lines(2000, 1),
    "indices/^GSPC.csv": price_lines(5000, 0),
    "indices/RSP.csv": [PRICE_HEADER] + [f"{d},,,,,{170 + i},100" for i, d in enumerate(DAYS)],  # no close: fine
    "sp500/prices/AAA.csv": price_lines(100, 1),
    "sp500/prices/BBB.csv": price_lines(100, -1),
    "long/closes.csv": ["symbol,date,close,adj_close"]
    + [f"{s},{d},{50 + i},{49 + i}" for s in ("LLA", "LLB") for i, d in enumerate(DAYS[:3])],
    "sp500/members.csv": ["symbol,name,sector", "AAA,Aaa Inc,Industrials", "BBB,Bbb Inc,Energy"],
    "sp500/membership/spans.csv": ["ticker,start_date,end_date", "AAA,2020-01-02,", "BBB,2020-01-02,"],
    "cpi/CPIAUCSL.csv": ["observation_date,CPIAUCSL"]
    + [
        f"{m.strftime('%Y-%m')}-01,{300 + i * 0.8:.3f}"
        for i, m in enumerate(pd.period_range("2023-01", "2024-06", freq="M"))
    ],
    "cpi/release_dates.csv": [
        "reference_month,release_date,release_time_et",
        "2024-04,2024-05-15,08:30",
        "2024-05,2024-06-12,08:30",
        "2024-06,2024-07-11,08:30",
    ],
    "cpi/consensus.csv": [
        "release_date,reference_month,measure,expected,actual,previous",
        "2024-06-12,2024-05,headline_yoy,3.4,3.3,3.4",
        "2024-07-11,2024-06,headline_yoy,3.1,3.0,3.3",
        "2024-07-11,2024-06,core_yoy,3.4,3.3,3.4",
    ],
}


class Work:
    """A config, a data folder with GOOD in it, and the real CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.db = root / "s.sqlite"
        self.config = root / "config.toml"
        self.config.write_text(f'{RULES}[store]\npath = "{self.db}"\n')  # rules first: top-level key
        for name, lines in GOOD.items():
            self.write(name, lines)

    def write(self, name: str, lines: list[str]) -> None:
        path = self.data / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.config), *args], input=input)

    def fetch(self, path: Path | None = None) -> Result:
        return self.cli("fetch", "--source", "csv", "--path", str(path or self.data), "--no-progress")

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        store = Store(self.db)
        try:
            return [tuple(r) for r in store.db.execute(sql, list(params)).fetchall()]
        finally:
            store.close()

    def close(self, symbol: str, day: str) -> object:
        return self.query("SELECT close FROM prices WHERE symbol = ? AND date = ?", symbol, day)[0][0]


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Work]:
    w = Work(tmp_path)
    first = w.fetch()
    assert first.exit_code == 0, first.output
    assert first.stderr == ""
    yield w


def with_row(name: str, line: int, row: str) -> list[str]:
    """GOOD[name] with line ``line`` (1-based, the header is line 1) replaced by ``row``."""
    lines = list(GOOD[name])
    lines[line - 1] = row
    return lines


def refused(result: Result, *lines: str) -> None:
    """fetch exited 1 and said exactly these refused rows (and a total), with no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    reported = [line for line in result.stderr.splitlines() if not line.startswith("Error: ")]
    assert reported == list(lines)
    assert result.stderr.splitlines()[-1].startswith("Error: refused ")


def assert_everything_runs(w: Work) -> None:
    """check, replay, /breadth and /cpi run on what fetch stored, every rule evaluated."""
    result = w.cli("check", "--as-of", DAYS[-1], "--format", "json")
    assert result.exit_code == 0 and result.exception is None, result.output
    errors = {r["name"]: r.get("error") for r in json.loads(result.stdout)["rules"]}
    assert errors == {"ratio": None, "breadth": None, "cpi": None}
    result = w.cli("replay", "--from", DAYS[0], "--format", "json")
    assert result.exit_code == 0 and result.exception is None, result.output
    assert json.loads(result.stdout)["errors"] == {}
    result = w.cli("run", "--console", input="/breadth\n/cpi\n")
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "⚠️" not in result.stdout and "Traceback" not in result.output, result.output
    assert "5-day" in result.stdout and "2024-06" in result.stdout, result.stdout


def test_the_good_folder_loads_and_every_rule_runs(work: Work) -> None:
    """The baseline the other tests break one row of (an ETF file without close is not an error)."""
    assert_everything_runs(work)
    assert work.close("RSP", DAYS[0]) is None


@pytest.mark.parametrize(
    ("cell", "shown"), [("0", "0"), ("-1", "-1"), ("n/a", "n/a"), ("inf", "inf"), ("nan", "nan"), ("abc", "abc")]
)
def test_price_file_bad_close_is_refused_and_the_stored_close_kept(work: Work, cell: str, shown: str) -> None:
    lines = with_row("indices/^RUT.csv", 4, f"{DAYS[2]},1,1,1,{cell},2002,100")
    lines[5] = f"{DAYS[4]},1,1,1,2100,2100,100"  # a good row that changed: stored
    work.write("indices/^RUT.csv", lines)
    refused(work.fetch(), f'indices/^RUT.csv:4: close: expected a positive number, got "{shown}"')
    assert work.close("^RUT", DAYS[2]) == 2002  # kept, not NULL, inf or 0
    assert work.query("SELECT adj_close FROM prices WHERE symbol = '^RUT' AND date = ?", DAYS[2]) == [(2002.0,)]
    assert work.close("^RUT", DAYS[4]) == 2100
    assert_everything_runs(work)


def test_price_file_bad_date_bad_adj_close_no_price_and_a_ragged_row(work: Work) -> None:
    lines = with_row("sp500/prices/AAA.csv", 3, "2024-13-45,1,1,1,500,500,100")
    lines[6] = f"{DAYS[5]},1,1,1,105,-105,100"
    lines[8] = f"{DAYS[7]},1,1,1,,,100"
    lines[9] = f"{DAYS[8]},1,1,1,1"
    work.write("sp500/prices/AAA.csv", lines)
    refused(
        work.fetch(),
        'sp500/prices/AAA.csv:3: date: expected a date like 2024-07-11, got "2024-13-45"',
        'sp500/prices/AAA.csv:7: adj_close: expected a positive number, got "-105"',
        "sp500/prices/AAA.csv:9: close/adj_close: no price on this row",
        "sp500/prices/AAA.csv:10: row: 5 fields, the header has 7",
    )
    assert [work.close("AAA", d) for d in DAYS[5:9]] == [105, 106, 107, 108]
    assert_everything_runs(work)


def test_at_most_ten_refused_lines_per_file_then_a_count(work: Work) -> None:
    lines = list(GOOD["sp500/prices/BBB.csv"])
    for i in range(1, 16):
        lines[i] = f"{DAYS[i - 1]},1,1,1,0,0,100"
    work.write("sp500/prices/BBB.csv", lines)
    result = work.fetch()
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[0] == 'sp500/prices/BBB.csv:2: close: expected a positive number, got "0"'
    assert len(err) == 12 and err[9].startswith("sp500/prices/BBB.csv:11: close")
    assert err[10] == "… and 5 more in sp500/prices/BBB.csv"
    assert err[11] == "Error: refused 15 rows in 1 file (the store keeps what it had); everything else is loaded"
    assert work.close("BBB", DAYS[0]) == 100
    assert_everything_runs(work)


def test_long_price_file_bad_symbol_and_bad_close(work: Work) -> None:
    lines = with_row("long/closes.csv", 3, f"LLA,{DAYS[1]},inf,51")
    lines.append(f"#N/A,{DAYS[0]},10,10")
    lines[4] = f"LLB,{DAYS[0]},60,59"  # changed: stored
    work.write("long/closes.csv", lines)
    refused(
        work.fetch(),
        'long/closes.csv:3: close: expected a positive number, got "inf"',
        'long/closes.csv:8: symbol: expected a ticker like BRK.B, got "#N/A"',
    )
    assert work.close("LLA", DAYS[1]) == 51
    assert work.close("LLB", DAYS[0]) == 60
    assert_everything_runs(work)


@pytest.mark.parametrize("name", ["cpi/CPIAUCSL.csv", "cpi/CPIAUCSL_vintage_2024-07-11.csv"])
@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        ("2024-05-01,abc", "CPIAUCSL", 'expected a positive number, got "abc"'),
        ("2024-05-01,inf", "CPIAUCSL", 'expected a positive number, got "inf"'),
        ("2024-05-01,-5", "CPIAUCSL", 'expected a positive number, got "-5"'),
        ("2024-05-32,312.8", "observation_date", 'expected a date like 2024-07-11, got "2024-05-32"'),
    ],
)
def test_fred_file_bad_row_is_refused_and_the_stored_level_kept(
    tmp_path: Path, name: str, row: str, column: str, why: str
) -> None:
    work = Work(tmp_path)
    work.write(name, GOOD["cpi/CPIAUCSL.csv"])
    assert work.fetch().exit_code == 0
    lines = with_row("cpi/CPIAUCSL.csv", 18, row)
    lines[1] = "2023-01-01,299.5"  # changed: stored
    work.write(name, lines)
    refused(work.fetch(), f"{name}:18: {column}: {why}")
    vintage = "latest" if name == "cpi/CPIAUCSL.csv" else "2024-07-11"
    stored = {r[0]: r[1] for r in work.query("SELECT month, value FROM cpi_observations WHERE vintage = ?", vintage)}
    assert stored["2024-05"] == pytest.approx(300 + 16 * 0.8) and stored["2023-01"] == 299.5
    assert_everything_runs(work)


def test_members_file_bad_symbol_adds_the_good_and_drops_no_stored_member(work: Work) -> None:
    work.write(
        "sp500/members.csv", ["symbol,name,sector", "AAA,Aaa Inc,Industrials", "#N/A,Bbb Inc,Energy", "CCC,C,IT"]
    )
    refused(work.fetch(), 'sp500/members.csv:3: symbol: expected a ticker like BRK.B, got "#N/A"')
    # the refused row may have been BBB: with refused rows the file adds and updates, but removes no one
    assert work.query("SELECT symbol FROM universe_members ORDER BY symbol") == [("AAA",), ("BBB",), ("CCC",)]
    assert_everything_runs(work)
    work.write("sp500/members.csv", ["symbol,name,sector", "AAA,Aaa Inc,Industrials", "BBB,Bbb Inc,Energy"])
    assert work.fetch().exit_code == 0  # a clean file replaces the list again: CCC leaves
    assert work.query("SELECT symbol FROM universe_members ORDER BY symbol") == [("AAA",), ("BBB",)]


@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        ("BBB,2020-13-45,", "start_date", 'expected a date like 2024-07-11, got "2020-13-45"'),
        ("BBB,2020-01-02,soon", "end_date", 'expected a date like 2024-07-11, got "soon"'),
        ("BBB,2020-01-02,2019-01-02", "end_date", "2019-01-02 is before start_date 2020-01-02"),
        ("BBB,,", "start_date", 'expected a date like 2024-07-11, got ""'),
        (",2020-01-02,", "ticker", "empty"),
    ],
)
def test_membership_bad_span_is_refused_and_the_stored_spans_kept(work: Work, row: str, column: str, why: str) -> None:
    work.write("sp500/membership/spans.csv", ["ticker,start_date,end_date", "AAA,2020-01-02,2030-01-01", row])
    refused(work.fetch(), f"sp500/membership/spans.csv:3: {column}: {why}")
    assert work.query('SELECT symbol, start, "end" FROM membership ORDER BY symbol') == [
        ("AAA", "2020-01-02", "2030-01-01"),
        ("BBB", "2020-01-02", None),
    ]
    assert_everything_runs(work)


@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        ("2024-06,soon,08:30", "release_date", 'expected a date like 2024-07-11, got "soon"'),
        ("2024-6,2024-07-12,08:30", "reference_month", 'expected a month like 2024-06, got "2024-6"'),
        ("2024-06,2024-07-12,8.30", "release_time_et", 'expected a time like 08:30, got "8.30"'),
    ],
)
def test_release_dates_bad_row_is_refused_and_the_stored_date_kept(work: Work, row: str, column: str, why: str) -> None:
    lines = with_row("cpi/release_dates.csv", 4, row)
    lines[2] = "2024-05,2024-06-12,08:45"  # changed: stored
    work.write("cpi/release_dates.csv", lines)
    refused(work.fetch(), f"cpi/release_dates.csv:4: {column}: {why}")
    assert work.query("SELECT month, release_date, release_time FROM cpi_releases ORDER BY month")[1:] == [
        ("2024-05", "2024-06-12", "08:45"),
        ("2024-06", "2024-07-11", "08:30"),
    ]
    assert_everything_runs(work)


@pytest.mark.parametrize(
    ("row", "column", "why"),
    [
        ("2024-07-11,2024-06,headline_yoy,n/a,3.0,3.3", "expected", 'expected a number, got "n/a"'),
        ("2024-07-11,2024-06,headline_yoy,3.0,inf,3.3", "actual", 'expected a number, got "inf"'),
        (
            "2024-07-11,2024-06,headline,3.0,3.0,3.3",
            "measure",
            'unknown measure "headline"; known: headline_mom, headline_yoy, core_mom, core_yoy',
        ),
        ("2024-07-11,June,headline_yoy,3.0,3.0,3.3", "reference_month", 'expected a month like 2024-06, got "June"'),
        ("11/07/2024,2024-06,headline_yoy,3,3,3", "release_date", 'expected a date like 2024-07-11, got "11/07/2024"'),
    ],
)
def test_consensus_bad_row_is_refused_and_the_stored_forecast_kept(work: Work, row: str, column: str, why: str) -> None:
    lines = with_row("cpi/consensus.csv", 3, row)
    lines[3] = "2024-07-11,2024-06,core_yoy,3.5,3.3,3.4"  # changed: stored
    work.write("cpi/consensus.csv", lines)
    refused(work.fetch(), f"cpi/consensus.csv:3: {column}: {why}")
    assert work.query("SELECT month, measure, expected, actual FROM cpi_consensus ORDER BY month, measure") == [
        ("2024-05", "headline_yoy", 3.4, 3.3),
        ("2024-06", "core_yoy", 3.5, 3.3),
        ("2024-06", "headline_yoy", 3.1, 3.0),
    ]
    assert_everything_runs(work)


def test_a_file_of_only_bad_rows_loads_nothing_and_exits_1(tmp_path: Path) -> None:
    work = Work(tmp_path)
    only = tmp_path / "only"
    only.mkdir()
    (only / "X.csv").write_text(f"{PRICE_HEADER}\n{DAYS[0]},1,1,1,0,0,1\n")
    result = work.fetch(only)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        'X.csv:2: close: expected a positive number, got "0"',
        "X.csv: no valid rows",
        "Error: nothing loaded: refused 1 row in 1 file (the store keeps what it had); 1 file had no row to load",
    ]


def test_files_with_no_rows_change_nothing_and_exit_1_after_loading_the_rest(work: Work) -> None:
    work.write("sp500/membership/spans.csv", ["ticker,start_date,end_date"])  # this used to wipe the spans
    work.write("indices/^RUT.csv", [PRICE_HEADER])
    work.write("indices/^GSPC.csv", with_row("indices/^GSPC.csv", 2, f"{DAYS[0]},1,1,1,4000,4000,1"))
    result = work.fetch()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "indices/^RUT.csv: no rows",
        "sp500/membership/spans.csv: no rows",
        "Error: 2 files had no row to load; everything else is loaded",
    ]
    assert work.close("^GSPC", DAYS[0]) == 4000
    assert len(work.query("SELECT * FROM membership")) == 2


INF_PRICE = pd.DataFrame({"close": [10.0, float("inf")]}, index=pd.DatetimeIndex(DAYS[:2]))
GUARDS = [  # (Store method, its arguments, what the error must say: the field and the value)
    ("set_membership", ("u", [("A", "2020-13-45", None)]), 'start: expected a date .* got "2020-13-45"'),
    ("set_membership", ("u", [("A", "2020-01-02", "2019-01-01")]), "end 2019-01-01 is before start 2020-01-02"),
    ("set_membership", ("u", [("A B", "2020-01-02", None)]), 'symbol: expected a ticker .* got "A B"'),
    ("set_universe", ("u", [{"symbol": "#N/A"}], "test"), 'symbol: expected a ticker .* got "#N/A"'),
    ("upsert_prices", ("X", INF_PRICE), f'X on {DAYS[1]}: close: expected a positive number, got "inf"'),
    ("set_cpi_releases", ([("2024-06", "soon", "08:30")],), 'release date: expected a date .* got "soon"'),
    ("set_cpi_releases", ([("2024-06", "2024-07-11", "8:30")],), 'release time: expected a time .* got "8:30"'),
    ("upsert_consensus", ([{"month": "2024-06", "measure": "cpi"}], "test"), 'measure: unknown measure "cpi"'),
    ("upsert_consensus", ([{"month": "2024-06", "measure": "core_mom", "actual": float("nan")}], "t"), 'got "nan"'),
    ("set_consensus_expected", ("June", "core_mom", 0.2, "admin"), 'month: expected a month .* got "June"'),
    ("upsert_cpi_observations", ("CPI", [("2024-06", float("inf"))], "latest"), 'value: .* got "inf"'),
    ("upsert_cpi_observations", ("CPI", [("2024-06-01", 313.0)], "latest"), 'month: .* got "2024-06-01"'),
]


@pytest.mark.parametrize(("method", "args", "message"), GUARDS)
def test_the_store_refuses_values_its_readers_would_choke_on(
    store: Store, method: str, args: tuple[object, ...], message: str
) -> None:
    """The last line of defence for every other writer (live sources, config, /consensus), naming the value."""
    with pytest.raises(StoreError, match=message):
        getattr(store, method)(*args)
    tables = ("prices", "membership", "universe_members", "cpi_releases", "cpi_consensus", "cpi_observations")
    assert [store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables] == [0] * len(tables)


def test_live_member_lists_and_config_members_refuse_non_tickers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape('line 3: Symbol: expected a ticker like BRK.B, got "#N/A"')):
        parse_members("Symbol,Security\nAAA,Aaa\n#N/A,Bbb\n")
    with pytest.raises(ConfigFileError, match='got "BRK B"'):
        parse_config({"universes": {"sp500": {"members": ["AAA", "BRK B"]}}}, path=tmp_path / "config.toml")


def test_yahoo_quotes_of_0_or_inf_are_missing_so_the_store_guard_never_stops_a_live_fetch() -> None:
    columns = pd.MultiIndex.from_product([["Close", "Adj Close"], ["AAA"]])
    quotes = [[10.0, 9.0], [0.0, 9.5], [float("inf"), -1.0]]
    out = split_download(pd.DataFrame(quotes, index=pd.DatetimeIndex(DAYS[:3]), columns=columns), ["AAA"])[0]["AAA"]
    assert out.fillna(0).to_numpy().tolist() == [[10.0, 9.0], [0.0, 9.5]]  # 0 is now NaN; the last row had no price
    assert out["close"].isna().tolist() == [False, True]
