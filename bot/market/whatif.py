"""What a rule change would have done: the rule as it is and as edited, replayed over the stored history.

Every variant is a real rule, validated like config.toml (the same located errors as ``rules check``),
replayed by the engine and tracked like ``stats``; all variants share one data load and one metric
computation, so a 20-value threshold sweep costs about one replay.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.config import Config, parse_value
from bot.errors import BotError
from bot.market.track import compute_track_records
from bot.store import Store
from bot.values import as_float
from rules import ConfigError, HorizonSummary, Rule, TrackRecord, across, load_rules

# Variants a sweep may replay, all axes together: each is a replay and a track record (about 50 ms on 25
# years), so 200 answer within seconds; 200 × 200 ran past five minutes.
MAX_SWEEP = 200
QUARTER = 63  # trading days: the horizon whose median move a what-if quotes ("3 months")


@dataclass(frozen=True)
class Variant:
    """One version of a rule and what it would have done since ``since``."""

    label: str
    rule: Rule
    edits: dict[str, Any]
    record: TrackRecord | None
    error: str | None = None

    @property
    def firings(self) -> list[dt.date]:
        return [f.date for f in self.record.firings] if self.record else []

    @property
    def by_year(self) -> Counter[int]:
        return Counter(d.year for d in self.firings)

    @property
    def most_in_a_year(self) -> tuple[int, int | None]:
        """(firings, year) of the busiest calendar year; (0, None) without firings."""
        if not self.firings:
            return 0, None
        year, n = max(self.by_year.items(), key=lambda kv: (kv[1], kv[0]))
        return n, year

    @property
    def horizon(self) -> int | None:
        if self.record is None or not self.record.horizons:
            return None
        return QUARTER if QUARTER in self.record.horizons else self.record.horizons[len(self.record.horizons) // 2]

    @property
    def summary(self) -> HorizonSummary | None:
        """The outcome at the quoted horizon, with its base rate and test against chance (None: no record)."""
        if self.record is None or self.horizon is None:
            return None
        return self.record.summary(self.horizon)


def parse_edits(pairs: Sequence[str]) -> dict[str, Any]:
    """``["threshold=0.42", "hysteresis=0.01"]`` → ``{"threshold": 0.42, "hysteresis": 0.01}``."""
    edits: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BotError(f"expected KEY=VALUE (e.g. threshold=0.42), got {pair!r}")
        edits[key.strip()] = parse_value(value.strip())
    return edits


def rule_table(rule: Rule) -> dict[str, Any]:
    """The rule as the keys of its [[rules]] table."""
    return {**rule.spec.model_dump(exclude_none=True), **rule.params.model_dump()}


def edited(rule: Rule, edits: Mapping[str, Any], source: str) -> Rule:
    """``rule`` with ``edits`` applied, validated as config.toml is (ConfigError names the rule and field)."""
    return load_rules([{**rule_table(rule), **edits}], source=source)[0]


def sweep_axis(spec: str) -> tuple[str, list[Any]]:
    """``threshold=0.38:0.44:0.01`` → ("threshold", [0.38, 0.39, …, 0.44]) (STOP included; whole numbers stay whole).

    Bounds are finite ASCII numbers: ``float`` would read nan, inf and other scripts' digits, and a NaN
    or infinite bound makes no values to count.
    """
    key, sep, span = spec.partition("=")
    parts = span.split(":")
    if not sep or len(parts) != 3:
        raise BotError(f"expected KEY=START:STOP:STEP (e.g. threshold=0.38:0.44:0.01), got {spec!r}")
    numbers = [as_float(p) if p.strip().isascii() else None for p in parts]
    lo, hi, step = (n if n is not None else math.nan for n in numbers)
    if not all(math.isfinite(n) for n in (lo, hi, step)):
        raise BotError(f"expected finite numbers in {spec!r} (KEY=START:STOP:STEP, e.g. threshold=0.38:0.44:0.01)")
    if step <= 0 or hi < lo:
        raise BotError(f"{spec!r}: STEP must be positive and STOP not below START")
    steps = (hi - lo) / step
    if not math.isfinite(steps) or steps + 1 > MAX_SWEEP:
        shown = f"{round(steps) + 1}" if math.isfinite(steps) else "too many"
        raise BotError(f"{spec!r} makes {shown} values; at most {MAX_SWEEP} in all")
    whole = all(float(p).is_integer() for p in parts)
    values = [lo + i * step for i in range(round(steps) + 1)]
    return key.strip(), [round(v) if whole else round(v, 10) for v in values]


def replay_variants(
    store: Store, config: Config, variants: Sequence[tuple[str, Rule, dict[str, Any]]], start: dt.date | None
) -> list[Variant]:
    """Replay and track every (label, rule, edits) at once; a variant whose data is missing carries its error."""
    renamed = [
        Rule(rule.spec.model_copy(update={"name": f"#{i}"}), rule.params) for i, (_, rule, _) in enumerate(variants)
    ]
    records, errors = compute_track_records(store, config, renamed, start=start)
    return [
        Variant(label, rule, edits, records.get(f"#{i}"), errors.get(f"#{i}"))
        for i, (label, rule, edits) in enumerate(variants)
    ]


def load_rule_file(text: str, source: str) -> Rule:
    """A rule to try without saving it: a file with one [[rules]] table (or a bare rule table)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BotError(f"{source}: not valid TOML: {exc}") from None
    tables = data.get("rules", [data])
    if not isinstance(tables, list) or len(tables) != 1:
        raise BotError(f"{source}: expected exactly one [[rules]] table")
    return load_rules(tables, source=source)[0]


def whatif(
    store: Store, config: Config, rule: Rule, edits: Mapping[str, Any], start: dt.date | None = None
) -> list[Variant]:
    """The rule as it is and as edited (when there are edits), side by side."""
    variants: list[tuple[str, Rule, dict[str, Any]]] = [("as is", rule, {})]
    if edits:
        label = " ".join(f"{k}={v}" for k, v in edits.items())
        variants.append(
            (label, edited(rule, edits, f"{config.path.name if config.path else 'config.toml'}"), dict(edits))
        )
    return replay_variants(store, config, variants, start)


def sweep(
    store: Store, config: Config, rule: Rule, axes: Sequence[tuple[str, list[Any]]], start: dt.date | None = None
) -> list[Variant]:
    """One variant per value (or pair of values) of the swept keys, in order, each value's test adjusted with
    all the others' (the values tried are one family)."""
    found = replay_variants(store, config, sweep_variants(rule, axes, _source(config)), start)
    horizon = next((v.horizon for v in found if v.horizon is not None), None)
    if horizon is None:
        return found
    records = across([v.record for v in found], horizon)
    return [replace(v, record=r) for v, r in zip(found, records, strict=True)]


def sweep_variants(
    rule: Rule, axes: Sequence[tuple[str, list[Any]]], source: str
) -> list[tuple[str, Rule, dict[str, Any]]]:
    """Each combination of the axes' values as a validated rule; at most MAX_SWEEP of them in all."""
    sizes = [len(values) for _, values in axes]
    if math.prod(sizes) > MAX_SWEEP:
        shape = " × ".join(str(n) for n in sizes)
        raise BotError(f"the sweep makes {math.prod(sizes)} variants ({shape}); at most {MAX_SWEEP} in all")
    variants = []
    for combo in itertools.product(*(values for _, values in axes)):
        edits = {key: value for (key, _), value in zip(axes, combo, strict=True)}
        try:
            variants.append((" ".join(f"{k}={v}" for k, v in edits.items()), edited(rule, edits, source), edits))
        except ConfigError as exc:
            raise BotError(f"sweep value {edits}: {exc}") from None
    return variants


def _source(config: Config) -> str:
    """Edits are errors of the rule in the config file, named as ``rules check`` names them."""
    return config.path.name if config.path else "config.toml"
