"""``/watch METRIC PARAM… CONDITION THRESHOLD``: a new rule's table from one line. A line that does not fit its
metric is a usage mistake saying what was wrong (an unknown metric or condition, too many or too few parameters or
values), with an example for that metric; a symbol the store has no prices for is refused before any preview."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import bot.config
from bot.chat.base import UsageError
from bot.errors import BotError
from rules import METRICS, Rule

LEVELS = ("above", "below", "crosses_above", "crosses_below", "crosses")
RANGES = ("between", "outside")
# What an example puts for each required parameter, and the condition and threshold that suit each metric.
SAMPLE_PARAMS = {"symbol": "SPY", "numerator": "^RUT", "denominator": "^GSPC", "benchmark": "^GSPC", "days": "20"}
SAMPLE_CONDITIONS = {
    **{"ratio": "crosses_above 0.42", "close": "below 500", "sma": "below 500", "sma_distance": "below -5"},
    **{"change": "above 5", "relative": "above 5", "breadth": "above 75", "cpi_surprise": "above 0.2"},
}


def watch_table(args: list[str]) -> dict[str, object]:
    """The rule table of a /watch line: the metric's required parameters in order, then the condition and its
    threshold (or low and high); optional parameters as KEY=VALUE anywhere (``window=50``). Values are TOML."""
    named = dict(a.split("=", 1) for a in args if "=" in a)
    args = [a for a in args if "=" not in a]
    if not args:
        raise UsageError
    name = args[0]
    if name not in METRICS:
        near = difflib.get_close_matches(name, list(METRICS), 1)
        guess = f" (did you mean {near[0]}?)" if near else ""
        hint = example(near[0] if near else "ratio")
        raise UsageError(f'unknown metric "{name}"{guess}: one of {", ".join(METRICS)}; {hint}')
    required = _required(name)
    cond_at = next((i for i, a in enumerate(args) if a in LEVELS + RANGES), None)
    if cond_at is None:
        where = args[len(required) + 1] if len(args) > len(required) + 1 else None
        near = difflib.get_close_matches(where, LEVELS + RANGES, 1) if where else []
        said = f' ("{where}": did you mean {near[0]}?)' if near else ""
        raise _wrong(name, f"no condition in the line{said}; one of {', '.join(LEVELS + RANGES)}")
    if cond_at - 1 != len(required):
        takes = " ".join(k.upper() for k in required) or "no parameters"
        raise _wrong(name, f"{name} takes {takes} before the condition, got {_words(args[1:cond_at])}")
    given = dict(zip(required, args[1:cond_at], strict=True)) | named
    table: dict[str, object] = {"metric": name, **{k: _param(v) for k, v in given.items()}}
    condition, values = args[cond_at], [bot.config.parse_value(v) for v in args[cond_at + 1 :]]
    table["condition"] = condition
    if condition in RANGES and len(values) == 2:
        table["low"], table["high"] = values
    elif condition in LEVELS and len(values) == 1:
        table["threshold"] = values[0]
    else:
        takes = "LOW HIGH" if condition in RANGES else "one THRESHOLD"
        raise _wrong(name, f"{condition} takes {takes}, got {_words(args[cond_at + 1 :])}")
    return table


def example(metric: str) -> str:
    """``e.g. /watch sma SPY below 500 (optional, anywhere: window=200, basis=close)``."""
    words = [metric, *(SAMPLE_PARAMS.get(k, k.upper()) for k in _required(metric))]
    line = f"e.g. /watch {' '.join(words)} {SAMPLE_CONDITIONS.get(metric, 'above 1')}"
    fields = METRICS[metric].params.model_fields
    optional = [f"{k}={'…' if f.default is None else f.default}" for k, f in fields.items() if not f.is_required()]
    return f"{line} (optional, anywhere: {', '.join(optional)})" if optional else line


def unstored(rule: Rule, stored: Iterable[str]) -> None:
    """Refuse a new rule on a symbol without stored prices: it would never fire, or a typo hides behind it."""
    if missing := sorted(rule.symbols - set(stored)):
        names = ", ".join(missing)
        raise BotError(
            f"no stored prices for {names}: check how Yahoo spells it (^GSPC, BRK-B), then fetch it first: "
            f"`rotation-bot fetch --symbol {missing[0]}` (offline: `rotation-bot fetch --source csv --path DIR`, "
            f"DIR a folder holding {missing[0]}.csv), and /watch again"
        )


def _required(metric: str) -> list[str]:
    return [k for k, f in METRICS[metric].params.model_fields.items() if f.is_required()]


def _wrong(metric: str, said: str) -> UsageError:
    return UsageError(f"{said}; {example(metric)}")


def _words(words: list[str]) -> str:
    return f'"{" ".join(words)}"' if words else "nothing"


def _param(text: str) -> object:
    """A parameter as typed: a number stays a number (days 10), a quoted or bare word is text (SPY, "SPY")."""
    value = bot.config.parse_value(text)
    return value if isinstance(value, int | float | bool | str) else text
