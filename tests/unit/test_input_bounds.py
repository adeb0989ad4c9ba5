"""Input that is shaped right but means harm or nonsense is refused where it enters, in one clear sentence.

A template width of a billion characters, an exchange no calendar knows, a sweep over NaN or forty
thousand values, a number that TOML reads as infinity, a duration in Arabic-Indic digits, a rule name
with a right-to-left override, a symbol that is a file path: each is refused by the one validation
that config.toml, ``rules set``, chat editing and ``whatif`` share, never by a crash later.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from typing import Any

import pytest

from bot.chat.base import UsageError, duration_arg
from bot.config.settings import parse_config
from bot.errors import BotError, ConfigFileError
from bot.market.whatif import MAX_SWEEP, parse_edits, sweep_axis, sweep_variants
from rules import ConfigError, Rule, load_rules

RULE: dict[str, Any] = {
    "name": "r",
    "metric": "close",
    "symbol": "^GSPC",
    "condition": "above",
    "threshold": 1.0,
}


def problems(**changes: Any) -> str:
    with pytest.raises(ConfigError) as err:
        load_rules([{**RULE, **changes}], source="config.toml")
    return str(err.value)


# --- 8: a template's width and precision -----------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{value:>1000000001}", "width 1000000001"),
        ("{value:.1000000001f}", "precision 1000000001"),
        ("{value:x^201.3f}", "width 201"),
        ("{rule:>500}", "width 500"),
        ("{date:%1000000000Y}", "width 1000000000"),
        ("{value:>{days}}", "placeholder inside a format"),
        ("{value:>٣}", "bad format"),
    ],
)
def test_a_huge_width_or_precision_is_refused_without_formatting_it(template: str, why: str) -> None:
    tracemalloc.start()
    try:
        message = problems(message=template)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith('config.toml: rule "r" field "message": '), message
    assert why in message, message
    if why.startswith(("width", "precision")):
        assert f"{why} is more than 200" in message, message
    assert peak < 5_000_000  # validating never builds the string


@pytest.mark.parametrize("template", ["{value:>200.3f}", "{value:,.2f}", "{date:%Y-%m-%d}", "{rule:-^40}", "{value}"])
def test_ordinary_formats_still_pass(template: str) -> None:
    assert load_rules([{**RULE, "message": template}])[0].template() == template


def test_the_resolve_template_is_bounded_too() -> None:
    assert 'field "resolve": {value}: width 999 is more than 200' in problems(resolve="{value:>999}")


def test_a_template_that_fails_when_rendered_falls_back_and_says_why() -> None:
    """Validated templates can still meet a value of another type (a float where an int was sampled):
    that alert is recorded with a plain message and the failure is carried with it, the others go on."""
    import pandas as pd

    from rules import RuleState, run_rule
    from rules.metrics import MetricSeries

    good = load_rules([RULE])[0]
    bad = Rule(good.spec.model_copy(update={"message": "{value:d}"}), good.params)
    huge = Rule(good.spec.model_copy(update={"message": "{value:>1000000001}"}), good.params)
    index = pd.DatetimeIndex(pd.bdate_range("2024-07-01", periods=3))
    metric = MetricSeries(pd.Series([0.5, 0.5, 2.0], index=index), unit="")
    for rule in (bad, huge):
        alerts, _ = run_rule(rule, metric, RuleState(), index[-1].date())
        [alert] = alerts
        assert alert.message.startswith("r: ") and len(alert.message) < 200
        assert alert.problem is not None and "message template failed" in alert.problem
    alerts, _ = run_rule(good, metric, RuleState(), index[-1].date())
    assert alerts[0].problem is None


# --- 9: the exchange ------------------------------------------------------------------------------


def test_an_unknown_exchange_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigFileError) as err:
        parse_config({"schedule": {"exchange": "XNYSS"}})
    assert str(err.value).splitlines() == [
        'config.toml: field "schedule.exchange": unknown exchange "XNYSS"; did you mean "XNYS"? '
        "(exchange-calendars' names, e.g. XNYS, XNAS, XLON)"
    ]
    assert parse_config({"schedule": {"exchange": "XLON"}}).settings.schedule.exchange == "XLON"


def test_every_written_exchange_is_exchange_calendars_own() -> None:
    """The written list is a fast path: each name must be the library's, but the library may know more."""
    import exchange_calendars

    from bot.config.exchanges import EXCHANGES

    assert set(EXCHANGES) <= set(exchange_calendars.get_calendar_names(include_aliases=True))


def test_a_calendar_the_written_list_lacks_is_asked_of_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A newer exchange-calendars adds calendars (XDFM in 4.13): a name it knows is accepted, whatever the list."""
    import exchange_calendars

    import bot.config.exchanges as exchanges

    library = set(exchange_calendars.get_calendar_names(include_aliases=True))
    monkeypatch.setattr(exchanges, "EXCHANGES", frozenset(exchanges.EXCHANGES - {"XLON"}))
    assert parse_config({"schedule": {"exchange": "XLON"}}).settings.schedule.exchange == "XLON"
    for name in sorted(library - exchanges.EXCHANGES)[:3]:  # XDFM and friends, where the installed library has them
        assert parse_config({"schedule": {"exchange": name}}).settings.schedule.exchange == name
    with pytest.raises(ConfigFileError, match='unknown exchange "XXXX"'):
        parse_config({"schedule": {"exchange": "XXXX"}})


# --- 10: sweeps and numbers that are not finite ----------------------------------------------------


@pytest.mark.parametrize(
    "spec", ["threshold=nan:1:0.1", "threshold=0:inf:1", "threshold=0:1:nan", "threshold=-inf:0:1", "x=0:1e308:1e-308"]
)
def test_a_sweep_bound_that_is_not_finite_is_one_line(spec: str) -> None:
    with pytest.raises(BotError) as err:
        sweep_axis(spec)
    assert repr(spec) in str(err.value) and "\n" not in str(err.value)


def test_a_sweep_counts_its_values_in_all() -> None:
    axes = [sweep_axis("threshold=0.30:0.49:0.01"), sweep_axis("hysteresis=0:0.19:0.01")]
    assert len(axes[0][1]) * len(axes[1][1]) == 400 > MAX_SWEEP
    with pytest.raises(BotError) as err:
        sweep_variants(load_rules([RULE])[0], axes, "config.toml")
    assert str(err.value) == f"the sweep makes 400 variants (20 × 20); at most {MAX_SWEEP} in all"
    with pytest.raises(BotError, match=f"at most {MAX_SWEEP}"):
        sweep_axis("threshold=0:1:0.001")


def test_whatif_refuses_what_rules_set_refuses() -> None:
    edits = parse_edits(["threshold=1e309"])
    assert "expected a finite number, got inf" in problems(**edits)
    assert "expected a finite number, got nan" in problems(threshold=float("nan"))
    assert "expected a finite number" in problems(hysteresis=float("inf"))


# --- 13: names, symbols and digits -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["٣d", "𝟗𝟎d", "３h", "1٠m"])
def test_durations_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(UsageError):
        duration_arg(text)
    assert duration_arg("3d") == dt.timedelta(days=3)


@pytest.mark.parametrize("name", ["evil\u202ename", "tab\there", "a b", "zero\u200bwidth", "../x", "малые", "r|x"])
def test_a_rule_name_is_a_strict_alphabet(name: str) -> None:
    message = problems(name=name)
    assert 'field "name": a rule name is letters, digits, ".", "_" and "-"' in message
    assert "like rut-spx-above-0.4" in message and "\u202e" not in message and "\t" not in message


@pytest.mark.parametrize(
    ("key", "value"),
    [("symbol", "../../etc/passwd"), ("symbol", "^GS PC"), ("symbol", "٣M"), ("symbol", "A\u202eB"), ("symbol", "")],
)
def test_a_symbol_is_spelled_as_yahoo_spells_it(key: str, value: str) -> None:
    message = problems(**{key: value})
    assert f'field "{key}": expected a symbol as Yahoo spells it' in message, message
    assert "^GSPC, BRK-B, ES=F" in message


def test_track_symbols_and_ratio_symbols_are_checked_too() -> None:
    ratio = {**RULE, "metric": "ratio", "numerator": "^RUT", "denominator": "/etc/x"}
    del ratio["symbol"]
    with pytest.raises(ConfigError, match='field "denominator": expected a symbol'):
        load_rules([ratio])
    with pytest.raises(ConfigError, match=r'field "track.1": expected a symbol'):
        load_rules([{**RULE, "track": ["^RUT", "a/b"]}])
    for ok in ("^GSPC", "BRK-B", "BRK.B", "ES=F", "rsp", "^N225"):
        assert load_rules([{**RULE, "symbol": ok}])[0].symbols == {ok}


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("{value.__class__}", "{value.__class__}"),
        ("{value.__class__.__init__.__globals__}", "{value.__class__.__init__.__globals__}"),
        ("{rule[0]}", "{rule[0]}"),
        ("{value!r:>10}", "{value!r}"),
        ("{date!s}", "{date!s}"),
    ],
)
def test_a_placeholder_is_a_plain_name_with_a_format_spec(template: str, shown: str) -> None:
    """``{value.__class__}`` rendered ``builtins.float``: attributes, indexes and conversions are refused."""
    base = shown[1:].split(".")[0].split("[")[0].split("!")[0]
    assert problems(message=template) == (
        f'config.toml: rule "r" field "message": {shown}: a placeholder is a name and a format spec, like '
        f"{{value:.3f}} or {{{base}}}, no more"
    )


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"data": {"symbols": ["^GSPC", "../../etc/passwd"]}},
            'field "data.symbols": expected a symbol as Yahoo spells it (^GSPC, BRK-B, ES=F), got "../../etc/passwd"',
        ),
        (
            {"data": {"symbols": ["spy"]}},
            'field "data.symbols": expected a symbol as Yahoo spells it (^GSPC, BRK-B, ES=F), got "spy"; '
            'did you mean "SPY"?',
        ),
        (
            {"data": {"history_start": "0001-01-01"}},
            'field "data.history_start": expected a day from 1800-01-01 to 2199-12-31, got "0001-01-01"',
        ),
        (
            {"data": {"history_start": dt.date(9999, 12, 31)}},  # a TOML date, as tomllib reads one
            'field "data.history_start": expected a day from 1800-01-01 to 2199-12-31, got "9999-12-31"',
        ),
        (
            {"universes": {"../evil": {"members": ["AAPL"]}}},
            'field "universes": a universe name is letters, digits, ".", "_" and "-" (like sp500), got "../evil"',
        ),
        (
            {"universes": {"evil\u202ex": {"members": ["AAPL"]}}},
            'field "universes": a universe name is letters, digits, ".", "_" and "-" (like sp500), got "evil\\u202ex"',
        ),
    ],
)
def test_data_symbols_days_and_universe_names_have_the_alphabet_and_bounds_of_everywhere_else(
    section: dict[str, Any], expected: str
) -> None:
    """[data] symbols = ["../../etc/passwd"], history_start = "0001-01-01" and [universes."../evil"] passed."""
    with pytest.raises(ConfigFileError) as err:
        parse_config(section)
    assert str(err.value).splitlines() == [f"config.toml: {expected}"]


def test_ordinary_data_and_universes_still_pass() -> None:
    config = parse_config(
        {
            "data": {"symbols": ["^GSPC", "BRK-B", "ES=F"], "history_start": dt.date(1927, 12, 30)},
            "universes": {"sp500": {"members": ["AAPL"]}, "nasdaq_100.v2": {"members": ["MSFT"]}},
        }
    )
    assert config.settings.data.symbols == ["^GSPC", "BRK-B", "ES=F"]
    assert sorted(config.settings.universes) == ["nasdaq_100.v2", "sp500"]
