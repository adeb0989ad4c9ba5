"""Rule definitions as users write them in TOML, validated all at once.

A rule is the core keys below plus the metric's own parameters as plain keys beside
``metric = "..."``. ``load_rules`` returns typed ``Rule`` objects or raises ``ConfigError`` with
every problem found, each naming the rule and the field, the way promtool reports rule files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules import catalog
from rules.errors import ConfigError, Problem, describe_input, pydantic_problems
from rules.templates import check_template

Condition = Literal[
    "crosses_above",
    "crosses_below",
    "crosses",
    "above",
    "below",
    "between",
    "outside",
    "change_above",
    "change_below",
]
NAME = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)
CONDITIONS: tuple[str, ...] = Condition.__args__  # type: ignore[attr-defined]


def is_name(value: object) -> bool:
    """A rule's or a universe's name: letters, digits, ".", "_" and "-". Typed in commands, keyed in the store and
    shown in alerts, it holds no path separator, space, control or right-to-left character."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


CROSSING = frozenset({"crosses_above", "crosses_below", "crosses"})
Severity = Literal["info", "warning", "critical"]

# Placeholders every message may use; metric-specific ones come from its details columns.
PLACEHOLDERS: dict[str, object] = {
    "value": 1.0,
    "previous": 1.0,
    "change": 0.1,
    "threshold": 1.0,
    "low": 0.0,
    "high": 2.0,
    "hysteresis": 0.0,
    "days": 1,
    "date": dt.date(2024, 7, 17),
    "rule": "name",
    "metric": "metric",
    "direction": "above",
    "severity": "info",
    "unit": "",
    "condition": "above",
}
DETAIL_PLACEHOLDERS: dict[str, dict[str, object]] = {
    "breadth": {"above": 1, "counted": 1, "excluded": 0, "members": 1},
    "relative": {"symbol_change": 1.0, "benchmark_change": 1.0},
    "cpi_surprise": {"month": "2024-06", "actual": 1.0, "expected": 1.0, "expected_basis": "consensus"},
}

DEFAULT_MESSAGES: dict[str, str] = {
    "crosses_above": "{metric} crossed above {threshold}: {value:.4g} on {date}",
    "crosses_below": "{metric} crossed below {threshold}: {value:.4g} on {date}",
    "crosses": "{metric} crossed {direction} {threshold}: {value:.4g} on {date}",
    "above": "{metric} is above {threshold}: {value:.4g} on {date}",
    "below": "{metric} is below {threshold}: {value:.4g} on {date}",
    "between": "{metric} is between {low} and {high}: {value:.4g} on {date}",
    "outside": "{metric} left the range {low}–{high}: {value:.4g} on {date}",
    "change_above": "{metric} rose {change:+.4g} over {days} days to {value:.4g} on {date}",
    "change_below": "{metric} fell {change:+.4g} over {days} days to {value:.4g} on {date}",
}
# Keys that change how an alert reads or where it goes, not when it fires.
WORDING = frozenset({"message", "description", "chats", "severity", "enabled"})
DEFAULT_RESOLVE = "Resolved: {metric} no longer meets {rule} ({value:.4g} on {date})"


class RuleSpec(BaseModel):
    """The core keys of a rule; everything else is a metric parameter."""

    # inf and nan (TOML reads 1e309 as inf) are refused here, so config.toml, edits and whatif agree.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=80)
    metric: str
    condition: Condition
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    days: int | None = Field(None, ge=1, le=5000)
    hysteresis: float = Field(0.0, ge=0)
    for_days: int = Field(0, ge=0, le=1000)
    cooldown_days: int = Field(0, ge=0, le=10000)
    resolve: bool | str = False
    severity: Severity = "info"
    chats: list[int] | None = None
    message: str | None = None
    description: str | None = None
    enabled: bool = True
    horizons: list[int] | None = None
    track: list[catalog.Symbol] | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        """A name is typed in chat commands, shown in alerts and keyed in the store: no spaces, no control or
        right-to-left characters that make one name look like another."""
        if not NAME.fullmatch(v):
            shown = json.dumps(v)  # escapes what would otherwise render invisibly or backwards
            raise ValueError(f'a rule name is letters, digits, ".", "_" and "-" (like rut-spx-above-0.4), got {shown}')
        return v

    @field_validator("resolve", mode="before")
    @classmethod
    def _resolve(cls, v: object) -> object:
        if not isinstance(v, bool | str):
            raise ValueError(f"expected true, false or a message template, got {describe_input(v)}")
        return v


def condition_problems(spec: RuleSpec, label: str) -> list[Problem]:
    """The keys a condition needs beside it (threshold, low/high, days), each named as its field."""
    problems: list[Problem] = []
    c = spec.condition
    if c in ("between", "outside"):
        for key in ("low", "high"):
            if getattr(spec, key) is None:
                problems.append(Problem(f"is required for condition {c!r}", rule=label, field=key))
        if spec.low is not None and spec.high is not None and spec.low >= spec.high:
            problems.append(Problem(f"must be above `low` ({spec.low:g}), got {spec.high:g}", rule=label, field="high"))
        elif (
            c == "outside"
            and spec.low is not None
            and spec.high is not None
            and spec.hysteresis * 2 >= spec.high - spec.low
        ):
            problems.append(
                Problem(
                    f"must be under half the range ({(spec.high - spec.low) / 2:g}), got {spec.hysteresis:g}",
                    rule=label,
                    field="hysteresis",
                )
            )
        if spec.threshold is not None:
            problems.append(
                Problem(f"condition {c!r} uses `low` and `high`, not `threshold`", rule=label, field="threshold")
            )
    else:
        if spec.threshold is None:
            problems.append(Problem(f"is required for condition {c!r}", rule=label, field="threshold"))
        for key in ("low", "high"):
            if getattr(spec, key) is not None:
                problems.append(Problem(f"only `between` and `outside` use `{key}`", rule=label, field=key))
    if c in ("change_above", "change_below") and spec.days is None:
        problems.append(Problem(f"is required for condition {c!r} (the span of the change)", rule=label, field="days"))
    return problems


@dataclass(frozen=True)
class Rule:
    """A validated rule: its spec, the metric and the metric's typed parameters."""

    spec: RuleSpec
    params: catalog.Params

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def metric(self) -> catalog.Metric[Any]:
        return catalog.get(self.spec.metric)

    @property
    def symbols(self) -> set[str]:
        return self.metric.symbols(self.params)

    @property
    def universes(self) -> set[str]:
        return self.metric.universes(self.params)

    @property
    def lines(self) -> tuple[float, ...]:
        """The lines the condition compares against: (low, high) for a range, else (threshold,).

        For ``change_*`` conditions they apply to the metric's change over ``days``, not to its level.
        """
        s = self.spec
        if s.condition in ("between", "outside"):
            return tuple(x for x in (s.low, s.high) if x is not None)
        return (s.threshold,) if s.threshold is not None else ()

    @property
    def on_level(self) -> bool:
        """Does the condition judge the metric's level (lines drawn on its chart), not its change?"""
        return not self.spec.condition.startswith("change_")

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that shapes the rule's firings or their tracking changes (not its wording)."""
        payload = {
            "metric": self.spec.metric,
            "spec": self.spec.model_dump(
                mode="json", exclude={"message", "description", "chats", "severity", "enabled"}
            ),
            "params": self.params.model_dump(mode="json"),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def describe_metric(self) -> str:
        return self.metric.describe(self.params)

    def describe_condition(self) -> str:
        s = self.spec
        c = s.condition.replace("_", " ")
        if s.condition in ("between", "outside"):
            text = f"{c} {s.low:g} and {s.high:g}"
        elif s.condition in ("change_above", "change_below"):
            text = f"{c} {s.threshold:g} over {s.days} days"
        else:
            text = f"{c} {s.threshold:g}"
        extras = []
        if s.hysteresis:
            extras.append(f"hysteresis {s.hysteresis:g}")
        if s.for_days:
            extras.append(f"for {s.for_days} days")
        if s.cooldown_days:
            extras.append(f"cooldown {s.cooldown_days} days")
        return text + (f" ({', '.join(extras)})" if extras else "")

    def template(self) -> str:
        return self.spec.message or DEFAULT_MESSAGES[self.spec.condition]

    def resolve_template(self) -> str | None:
        if self.spec.resolve is False:
            return None
        if self.spec.resolve is True:
            return DEFAULT_RESOLVE
        return self.spec.resolve


def _metric_problems(found: list[Problem], metric: str, known: set[str], own: set[str]) -> list[Problem]:
    """Say which metric wants a missing key, and suggest the key a typo probably meant."""
    out = []
    for p in found:
        msg = p.message
        if msg == "is required":
            msg = f'is required by metric "{metric}"'
        elif msg == "unknown key" and p.field:
            close = difflib.get_close_matches(p.field, sorted(known), n=1)
            takes = ", ".join(sorted(own))
            hint = f'did you mean "{close[0]}"?' if close else f'metric "{metric}" takes {takes}'
            msg = f"unknown key; {hint}"
        out.append(Problem(msg, rule=p.rule, field=p.field))
    return out


def event_problems(spec: RuleSpec, metric: str, rule: str) -> list[Problem]:
    """Options that mean nothing when each observation is its own event (a CPI release is judged alone)."""
    why = f'metric "{metric}" judges each release on its own'
    out = []
    if spec.condition in CROSSING:  # a crossing needs the previous release's side: nothing to compare with
        out.append(Problem(f"{why}, so it cannot cross a line: use above or below", rule=rule, field="condition"))
    if spec.for_days:
        out.append(Problem(f"{why}, so there are no consecutive days to wait for", rule=rule, field="for_days"))
    if spec.hysteresis:
        out.append(Problem(f"{why}, so there is no band to re-arm", rule=rule, field="hysteresis"))
    if spec.resolve is not False:
        out.append(Problem(f"{why}, so there is nothing to resolve", rule=rule, field="resolve"))
    return out


def parse_rule(raw: Mapping[str, Any], index: int) -> tuple[Rule | None, list[Problem]]:
    """Validate one rule table; never raises, returns the problems found."""
    if not isinstance(raw, Mapping):
        return None, [Problem("each [[rules]] entry must be a table", rule=f"#{index + 1}")]
    name = raw.get("name")
    label = name if isinstance(name, str) and name else f"#{index + 1}"
    if isinstance(name, str) and name and not NAME.fullmatch(name):
        label = json.dumps(name)[1:-1]  # a name with a control or bidi character is shown escaped
    core_keys = set(RuleSpec.model_fields)
    core = {k: v for k, v in raw.items() if k in core_keys}
    metric_name = raw.get("metric")
    metric = catalog.METRICS.get(metric_name) if isinstance(metric_name, str) else None
    # A key both the rule and its metric declare (``days``) goes to both.
    metric_keys = set(metric.params.model_fields) if metric is not None else set()
    shared = metric_keys & core_keys
    extra = {k: v for k, v in raw.items() if k not in core_keys or k in shared}
    problems: list[Problem] = []
    spec: RuleSpec | None = None
    try:
        spec = RuleSpec.model_validate(core)
    except ValidationError as err:
        problems.extend(pydantic_problems(err, label))
    if isinstance(metric_name, str) and metric is None:
        problems.append(
            Problem(
                f'unknown metric "{metric_name}"; known: {", ".join(sorted(catalog.METRICS))}',
                rule=label,
                field="metric",
            )
        )
    params: catalog.Params | None = None
    if metric is not None:
        try:
            params = metric.params.model_validate(extra, strict=True)
        except ValidationError as err:
            found = pydantic_problems(err, label)
            problems.extend(_metric_problems(found, metric.name, core_keys | metric_keys, metric_keys))
    if spec is not None:
        problems.extend(condition_problems(spec, label))
    if spec is not None and metric is not None and metric.events:
        problems.extend(event_problems(spec, metric.name, label))
    if spec is not None and metric is not None:
        allowed = {**PLACEHOLDERS, **DETAIL_PLACEHOLDERS.get(metric.name, {})}
        for field, tmpl in (("message", spec.message), ("resolve", spec.resolve)):
            if isinstance(tmpl, str):
                why = check_template(tmpl, allowed)
                if why:
                    problems.append(Problem(why, rule=label, field=field))
        if spec.horizons is not None and any(h < 1 for h in spec.horizons):
            problems.append(Problem("horizons must be positive day counts", rule=label, field="horizons"))
    if problems or spec is None or params is None:
        return None, problems
    return Rule(spec, params), []


def load_rules(raw_rules: Sequence[Any], source: str | None = None) -> list[Rule]:
    """Validate a list of rule tables (the TOML ``[[rules]]`` array).

    Raises ``ConfigError`` listing every problem in every rule, with ``source`` (the file name)
    in front of each.
    """
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str | bytes):
        raise ConfigError([Problem("`rules` must be an array of tables ([[rules]])", source=source)])
    for i, raw in enumerate(raw_rules):
        rule, found = parse_rule(raw, i)
        problems.extend(found)
        if rule is not None:
            if rule.name in seen:
                problems.append(
                    Problem(f"duplicate name (also rule #{seen[rule.name] + 1})", rule=rule.name, field="name")
                )
            seen[rule.name] = i
            rules.append(rule)
    if problems:
        # A key both the rule and its metric read (``days``) is checked twice: report it once.
        unique = dict.fromkeys(Problem(p.message, rule=p.rule, field=p.field, source=source) for p in problems)
        raise ConfigError(list(unique))
    return rules


def lookback_days(rules: Sequence[Rule]) -> int:
    """Trading days of history the rules' metrics need before the first day they evaluate."""
    need = 1
    for rule in rules:
        p = rule.params
        for attr in ("window", "days"):
            v = getattr(p, attr, None)
            if isinstance(v, int):
                need = max(need, v)
        need = max(need, (rule.spec.days or 0) + 1, rule.spec.for_days, rule.spec.cooldown_days)
    return need + 1
