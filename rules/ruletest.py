"""Rule unit tests written as data, like ``promtool test rules``: series in, expected alerts out.

A test file is TOML::

    config = "../../config.toml"        # optional: rules from a config file (path relative to this file)
    rule_files = ["more-rules.toml"]    # optional: more files with [[rules]]

    [[rules]]                           # optional: rules defined right here, shared by every test
    name = "ratio-above-1"
    metric = "ratio"
    ...

    [[tests]]
    name = "ratio crosses above 0.4 once"
    rules = ["rut-spx-above-0.4"]       # names (from the files above) and/or inline tables; default: all
    start = 2024-07-01                  # the first value's day; one value per business day after it
    from = 2024-07-03                   # optional: alerts before this day are not counted (warm-up)
    to = 2024-07-10                     # optional: last day evaluated (default: the last input day)

    [tests.input_series]
    "^RUT" = "0.38 0.39 0.41 0.42"      # values; "_" is a missing day (a halt, or a holiday if all miss)
    "^GSPC" = "1x3"                     # promtool shorthand: "a+bxn" is a, a+b, …, a+n·b (n+1 values)

    [tests.universes]                   # optional: universe members for breadth
    sp500 = ["AAA", "BBB"]

    [[tests.cpi]]                       # optional: CPI releases for cpi_surprise
    date = 2024-07-11
    month = "2024-06"
    actual_headline_yoy = 3.0
    expected_headline_yoy = 3.1

    [[tests.exp_alerts]]
    rule = "rut-spx-above-0.4"
    date = 2024-07-03
    kind = "firing"                     # or "resolved"; default firing
    value = 0.41                        # optional, compared to 1e-6 relative
    message = "…"                       # optional, compared exactly

Each test runs through ``rules.replay`` exactly as the CLI replay does, and the alerts it gets must be
exactly the expected ones (none missing, none extra). Failures print ``exp:`` and ``got:``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.data import CPI_MEASURES, MarketData
from rules.engine import Alert, replay
from rules.errors import ConfigError, Problem, RuleError, pydantic_problems
from rules.model import Rule, load_rules

RuleLoader = Callable[[Path], list[Rule]]

_TOKEN = re.compile(
    r"^(?P<start>_|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?:(?P<step>[-+](?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)?x(?P<n>\d+))?$"
)


def parse_series(text: str) -> list[float]:
    """Expand a compact series: ``"1 2 _ 4"``, ``"1+0.5x3"`` (1 1.5 2 2.5), ``"5x2"`` (5 5 5), ``"_x3"``.

    Follows promtool: ``a+bxn`` is ``n+1`` values. ``_`` is a day without a value (NaN).
    """
    out: list[float] = []
    for token in text.split():
        m = _TOKEN.match(token)
        if m is None:
            raise ValueError(f'cannot read "{token}": expected a number, "_", or "a+bxn" like "0.38+0.01x5"')
        n = int(m["n"]) if m["n"] is not None else None
        if m["start"] == "_":
            if m["step"]:
                raise ValueError(f'cannot read "{token}": a missing value "_" has no step; write "_x{n}"')
            out.extend([math.nan] * (1 if n is None else n))
            continue
        a = float(m["start"])
        if n is None:
            out.append(a)
            continue
        b = float(m["step"]) if m["step"] else 0.0
        out.extend(a + b * i for i in range(n + 1))
    if not out:
        raise ValueError("the series is empty")
    return out


# --- the file format, validated with pydantic ----------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ExpAlert(_Strict):
    """An alert a test expects."""

    rule: str
    date: dt.date = Field(strict=False)
    kind: Literal["firing", "resolved"] = "firing"
    value: float | None = None
    message: str | None = None

    def label(self) -> str:
        extra = f" value={self.value:g}" if self.value is not None else ""
        return f"{self.date.isoformat()} {self.rule} {self.kind}{extra}"


class _Case(_Strict):
    name: str = Field(min_length=1)
    rules: list[str | dict[str, Any]] | None = None
    start: dt.date = Field(strict=False)
    from_: dt.date | None = Field(None, alias="from", strict=False)
    to: dt.date | None = Field(None, strict=False)
    input_series: dict[str, str] = Field(default_factory=dict)
    universes: dict[str, list[str]] = Field(default_factory=dict)
    cpi: list[dict[str, Any]] = Field(default_factory=list)
    exp_alerts: list[ExpAlert] = Field(default_factory=list)


class _File(_Strict):
    config: str | None = None
    rule_files: list[str] = Field(default_factory=list)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    tests: list[_Case] = Field(min_length=1)


@dataclass(frozen=True)
class RuleTest:
    """One test case, ready to run: rules, data, the span to replay and the alerts expected."""

    name: str
    rules: list[Rule]
    data: MarketData
    start: dt.date
    end: dt.date
    expected: list[ExpAlert]
    source: str = ""


@dataclass(frozen=True)
class RuleTestResult:
    test: RuleTest
    got: list[Alert]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures

    def report(self) -> str:
        head = f'  {"SUCCESS" if self.ok else "FAILED"}: test "{self.test.name}"'
        return "\n".join([head, *(f"    {line}" for line in self.failures)])


def rules_from_toml(path: Path) -> list[Rule]:
    """The default rule loader: the ``[[rules]]`` of a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([Problem("no such file", source=str(path))]) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([Problem(f"cannot read: {exc}", source=str(path))]) from None
    return load_rules(data.get("rules", []), source=path.name)


def load_test_file(path: str | Path, rule_loader: RuleLoader = rules_from_toml) -> list[RuleTest]:
    """Read and validate a test file; raises ``ConfigError`` listing every problem in it."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([Problem("no such test file", source=str(p))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(f"cannot read: {exc}", source=str(p))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(f"not valid TOML: {exc}", source=str(p))]) from None
    return parse_test_file(data, source=p.name, base=p.resolve().parent, rule_loader=rule_loader)


def parse_test_file(
    data: Mapping[str, Any],
    source: str = "test.toml",
    base: Path | None = None,
    rule_loader: RuleLoader = rules_from_toml,
) -> list[RuleTest]:
    """Validate parsed TOML into runnable tests; raises ``ConfigError`` listing every problem."""
    try:
        spec = _File.model_validate(data)
    except ValidationError as err:
        raise ConfigError([_at(p, source) for p in pydantic_problems(err, None)]) from None
    problems: list[Problem] = []
    library: dict[str, Rule] = {}
    files = ([spec.config] if spec.config else []) + spec.rule_files
    for name in files:
        path = Path(name) if base is None or Path(name).is_absolute() else base / name
        try:
            for rule in rule_loader(path):
                library[rule.name] = rule
        except RuleError as exc:
            problems.append(Problem(f"cannot load rules from {name}: {exc}", source=source))
    if spec.rules:
        try:
            for rule in load_rules(spec.rules, source=source):
                library[rule.name] = rule
        except ConfigError as exc:
            problems.extend(exc.problems)
    tests: list[RuleTest] = []
    for i, case in enumerate(spec.tests):
        test, found = _build(case, i, library, source)
        problems.extend(found)
        if test is not None:
            tests.append(test)
    if problems:
        raise ConfigError(problems)
    return tests


def _at(p: Problem, source: str) -> Problem:
    return Problem(p.message, rule=p.rule, field=p.field, source=source)


def _build(case: _Case, index: int, library: Mapping[str, Rule], source: str) -> tuple[RuleTest | None, list[Problem]]:
    where = f'test "{case.name}"'
    problems: list[Problem] = []

    def problem(field: str, message: str) -> None:
        problems.append(Problem(f'{where} field "{field}": {message}', source=source))

    rules: list[Rule] = []
    if case.rules is None:
        rules = list(library.values())
        if not rules:
            problem("rules", "no rules: name some, define them inline, or set `config`/`rule_files`")
    else:
        inline = [r for r in case.rules if isinstance(r, dict)]
        for r in case.rules:
            if isinstance(r, str):
                if r in library:
                    rules.append(library[r])
                else:
                    known = ", ".join(sorted(library)) or "none loaded"
                    problem("rules", f'no rule named "{r}" (known: {known})')
        if inline:
            try:
                rules.extend(load_rules(inline, source=f"{source} {where}"))
            except ConfigError as exc:
                problems.extend(exc.problems)
    columns: dict[str, list[float]] = {}
    for symbol, text in case.input_series.items():
        try:
            columns[symbol] = parse_series(text)
        except ValueError as exc:
            problem(f"input_series.{symbol}", str(exc))
    if not case.input_series and not case.cpi:
        problem("input_series", "needs at least one series (or CPI releases in [[tests.cpi]])")
    cpi = None
    if case.cpi:
        try:
            cpi = _cpi_frame(case.cpi)
        except ValueError as exc:
            problem("cpi", str(exc))
    known_rules = {r.name for r in rules}
    for j, exp in enumerate(case.exp_alerts):
        if exp.rule not in known_rules:
            problem(f"exp_alerts.{j}.rule", f'"{exp.rule}" is not one of this test\'s rules')
    if problems:
        return None, problems
    length = max((len(v) for v in columns.values()), default=0)
    index_ = pd.bdate_range(case.start, periods=length, name="date")
    frame = pd.DataFrame(
        {s: np.asarray(v + [math.nan] * (length - len(v)), dtype=float) for s, v in columns.items()}, index=index_
    )
    frame = frame.dropna(how="all")  # a day nobody traded is a holiday: no row, as in the store
    data = MarketData(
        close=frame,
        universes={u: tuple(m) for u, m in case.universes.items()},
        cpi=cpi,
    )
    days = [d.date() for d in frame.index]
    if cpi is not None:
        days += [d.date() for d in cpi.index]
    start = case.from_ or min(days)
    end = case.to or max(days)
    return RuleTest(case.name, rules, data, start, end, list(case.exp_alerts), source), []


def _cpi_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """CPI releases as ``MarketData.cpi`` wants them: one row per release day, every measure's columns."""
    columns = ["month"] + [f"{k}_{m}" for m in CPI_MEASURES for k in ("actual", "expected", "naive")]
    records = []
    for i, row in enumerate(rows):
        unknown = set(row) - {"date", *columns}
        if unknown:
            raise ValueError(f"row {i + 1}: unknown key {sorted(unknown)[0]!r}; known: date, {', '.join(columns)}")
        day = row.get("date")
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if not isinstance(day, dt.date):
            raise ValueError(f"row {i + 1}: `date` (the release day) is required")
        records.append({"date": pd.Timestamp(day), **{c: row.get(c, math.nan) for c in columns}})
    frame = pd.DataFrame.from_records(records).set_index("date").sort_index()
    frame["month"] = frame["month"].astype(object)
    return frame


def run_test(test: RuleTest) -> RuleTestResult:
    """Replay the test's rules over its data and compare the alerts with the expected ones."""
    result = replay(test.rules, test.data, test.start, test.end)
    got = list(result.alerts)
    failures = [f'rule "{name}" could not run: {why}' for name, why in result.errors.items()]
    exp_keys = sorted((e.date, e.rule, e.kind) for e in test.expected)
    got_keys = sorted((a.date, a.rule, a.kind) for a in got)
    if exp_keys != got_keys:
        failures.append("exp: [" + ", ".join(e.label() for e in sorted(test.expected, key=_exp_key)) + "]")
        failures.append("got: [" + ", ".join(_label(a) for a in got) + "]")
        return RuleTestResult(test, got, failures)
    by_key = {(a.date, a.rule, a.kind): a for a in got}
    for e in test.expected:
        a = by_key[(e.date, e.rule, e.kind)]
        if e.value is not None and not math.isclose(a.value, e.value, rel_tol=1e-6, abs_tol=1e-9):
            failures.append(f"exp: {e.label()}")
            failures.append(f"got: {_label(a)}")
        if e.message is not None and a.message != e.message:
            failures.append(f"exp: {e.label()} message={e.message!r}")
            failures.append(f"got: {_label(a)} message={a.message!r}")
    return RuleTestResult(test, got, failures)


def _exp_key(e: ExpAlert) -> tuple[dt.date, str, str]:
    return (e.date, e.rule, e.kind)


def _label(a: Alert) -> str:
    return f"{a.date.isoformat()} {a.rule} {a.kind} value={a.value:.6g}"
