"""PNG charts of a metric: its line, each rule's threshold and every alert its rules would have made.

The metric is computed by the rule engine itself (``rules.engine.compute`` with the rule's own
parameters), so a chart can never disagree with the alert it illustrates. Drawing uses
matplotlib's object API (``Figure`` + ``FigureCanvasAgg``), never pyplot: pyplot keeps global
state, which is not safe when the bot renders charts from several threads.

Charts are sized for a phone: 1080×720 px with large fonts and the last value in the title.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bot.calendar import CHART_PERIODS
from bot.config import Config
from bot.errors import FETCH_FIRST, BotError
from bot.market import load_market_data, rules_start, universe_members
from bot.store import Store
from bot.values import short
from rules import METRICS, Alert, MarketData, MetricSeries, Rule, RuleError, compute, load_rules, replay

log = logging.getLogger(__name__)

PERIODS = CHART_PERIODS
SIZE_INCHES = (9.0, 6.0)
DPI = 120  # 9×6 in at 120 dpi = 1080×720 px

# Chart names that are not metric or rule names, and the metric they stand for.
SHORTCUTS: dict[str, dict[str, Any]] = {
    "ratio": {"metric": "ratio", "numerator": "^RUT", "denominator": "^GSPC"},
    "breadth": {"metric": "breadth", "universe": "sp500", "window": 200},
}
FIRING_COLOR = "#ffb000"  # amber: no threshold line uses it, so alerts stand out
DOWN_COLOR = "#00b7ff"  # sky blue, apart from the line's dark blue
RESOLVED_COLOR = "#00a651"
# How each kind of alert is marked: firings by the way the value went, resolutions apart.
# Resolutions are drawn first and smaller: a firing of another rule on the same day stays visible on top.
MARKERS: dict[str, tuple[str, str, str]] = {
    "resolved": ("o", RESOLVED_COLOR, "resolved"),
    "above": ("^", FIRING_COLOR, "fired, value going up"),
    "below": ("v", DOWN_COLOR, "fired, value going down"),
    "inside": ("D", FIRING_COLOR, "fired, value inside the range"),
}
THRESHOLD_COLORS = ("#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


class ChartError(BotError):
    """A chart cannot be drawn: unknown metric or period, or no data for it."""


@dataclass(frozen=True)
class ChartTarget:
    """What to draw: the rule whose metric is computed, and the rules whose thresholds are shown."""

    rule: Rule
    rules: tuple[Rule, ...]


def _synthetic_rule(name: str, table: Mapping[str, Any]) -> Rule:
    """A rule that exists only to compute a metric (its threshold is never drawn)."""
    raw = {"name": name, "condition": "above", "threshold": 0.0, **table}
    return load_rules([raw], source="chart")[0]


def _same_metric(config: Config, rule: Rule) -> tuple[Rule, ...]:
    return tuple(
        r for r in config.rules if r.spec.enabled and r.spec.metric == rule.spec.metric and r.params == rule.params
    )


def choices(config: Config) -> list[str]:
    """Every name ``render_chart`` accepts, for help texts and error messages: shortcuts, rule names, and the
    metrics that can be drawn as they are (one that needs parameters, such as sma's symbol, only through a rule)."""
    names = list(SHORTCUTS)
    names += [r.name for r in config.rules if r.name not in names]
    used = {r.spec.metric for r in config.rules if r.spec.enabled}
    names += [m for m in sorted(METRICS) if m not in names and (m in used or _needs_nothing(m))]
    return names


def _needs_nothing(metric: str) -> bool:
    try:
        _synthetic_rule(metric, {"metric": metric})
    except RuleError:
        return False
    return True


def resolve(config: Config, metric: str) -> ChartTarget:
    """Turn a chart name (shortcut, rule name or metric name) into what to compute and draw."""
    by_name = {r.name: r for r in config.rules}
    if metric in by_name:
        rule = by_name[metric]
        return ChartTarget(rule, _same_metric(config, rule) or (rule,))
    if metric in SHORTCUTS:
        base = _synthetic_rule(metric, SHORTCUTS[metric])
        return ChartTarget(base, _same_metric(config, base))
    if metric in METRICS:
        configured = [r for r in config.rules if r.spec.enabled and r.spec.metric == metric]
        if configured:
            return ChartTarget(configured[0], _same_metric(config, configured[0]))
        try:
            base = _synthetic_rule(metric, {"metric": metric})
        except RuleError:
            takes = ", ".join(METRICS[metric].params.model_fields)
            raise ChartError(
                f'metric "{metric}" needs parameters ({takes}) and no rule uses it: add a rule with it to '
                f"config.toml and chart the rule by name (choices: {', '.join(choices(config))})"
            ) from None
        return ChartTarget(base, ())
    raise ChartError(f'unknown chart "{metric}"; choices: ' + ", ".join(choices(config)))


def _period(
    store: Store, config: Config, rules: Sequence[Rule], period: str, end: dt.date | None = None
) -> tuple[MarketData, dt.date | None]:
    """The data for the charted rules over the period ending at ``end`` (default: the latest stored day),
    warmed up as a replay is, and its first day."""
    if period not in PERIODS:
        raise ChartError(f'unknown period "{period}"; choices: {", ".join(PERIODS)}')
    days = PERIODS[period]
    first: dt.date | None = None
    if days is not None:
        latest = end
        if latest is None:
            symbols = set().union(*(r.symbols for r in rules))
            for universe in set().union(*(r.universes for r in rules)):
                symbols |= set(universe_members(store, config, universe))
            latest = store.latest_date(sorted(symbols)) if symbols else store.latest_date()
        if latest is None:
            raise ChartError(f"the store {store.path} holds no prices yet: {FETCH_FIRST}")
        first = latest - dt.timedelta(days=days)
    start = rules_start(rules, first, warm_up=True) if first else None
    return load_market_data(store, config, rules, end=end, start=start), first


def _trim(rule: Rule, data: MarketData, period: str) -> MetricSeries:
    try:
        series = compute(rule, data)
    except RuleError as exc:
        raise ChartError(f"cannot chart {rule.describe_metric()}: {exc}") from None
    values = series.values
    days = PERIODS[period]
    if days is not None and not values.empty:
        values = values.loc[values.index[-1] - pd.Timedelta(days=days) :]
    if values.empty:
        raise ChartError(f"no data to chart for {rule.describe_metric()}")
    return MetricSeries(values, None, series.unit)


def _firings(rules: Sequence[Rule], data: MarketData, series: MetricSeries) -> list[dict[str, Any]]:
    """Every alert the charted rules would have made in the drawn span: the replay ``stats`` and ``replay`` use."""
    live = [Rule(r.spec.model_copy(update={"enabled": True}), r.params) for r in rules]
    first, last = series.values.index[0].date(), series.values.index[-1].date()
    return [a.to_dict() for a in replay(live, data, first, last).alerts]


def _chart(
    store: Store,
    config: Config,
    rule: Rule,
    rules: Sequence[Rule],
    period: str,
    extra: Sequence[Mapping[str, Any]],
    end: dt.date | None = None,
) -> bytes:
    data, _ = _period(store, config, [rule, *rules], period, end)
    return _draw_target(data, rule, rules, period, extra)


def _draw_target(
    data: MarketData, rule: Rule, rules: Sequence[Rule], period: str, extra: Sequence[Mapping[str, Any]]
) -> bytes:
    series = _trim(rule, data, period)
    rows = {(a["rule"], a["date"], a.get("kind", "firing")): a for a in _firings(rules, data, series)}
    for e in extra:  # the alert about to be sent, in case its rule changed since
        rows[(e["rule"], e["date"], e.get("kind", "firing"))] = dict(e)
    return draw(series, rule.describe_metric(), rules, list(rows.values()))


def draw(
    series: MetricSeries,
    title: str,
    rules: Sequence[Rule],
    alerts: Sequence[Mapping[str, Any]],
) -> bytes:
    """Render one chart to PNG bytes (pure: no store, no config)."""
    # matplotlib takes most of a second to import: only a chart being drawn pays for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    values = series.values
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    sparse = len(values) < 120
    ax.plot(
        values.index,
        values.to_numpy(dtype=float),
        color="#1f4e9c",
        linewidth=2.2,
        marker="o" if sparse else None,
        markersize=5,
        label=series.values.name or "value",
    )
    # One line per level: rules sharing a level (crossing 0.4 up and down) share its line and label.
    lines: dict[float, list[str]] = {}
    for rule in rules:
        if not rule.on_level:
            continue  # the threshold applies to the change, not to the plotted level
        for level in rule.lines:
            lines.setdefault(float(level), []).append(f"{rule.name} ({rule.spec.condition.replace('_', ' ')})")
    for i, (level, names) in enumerate(lines.items()):
        ax.axhline(
            level,
            color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
            linestyle="--",
            linewidth=1.8,
            label=f"{level:g}: {', '.join(names)}",
        )
    lo, hi = values.index[0], values.index[-1]
    points: dict[str, tuple[list[pd.Timestamp], list[float]]] = {}
    for a in alerts:
        ts = pd.Timestamp(a["date"])
        if not lo <= ts <= hi:
            continue
        y = float(values.loc[ts]) if ts in values.index else float(a.get("value") or math.nan)
        if math.isnan(y):
            continue
        kind = "resolved" if a.get("kind", "firing") == "resolved" else a.get("direction") or "above"
        xs, ys = points.setdefault(kind if kind in MARKERS else "inside", ([], []))
        xs.append(ts)
        ys.append(y)
    for kind, (xs, ys) in sorted(points.items(), key=lambda kv: list(MARKERS).index(kv[0])):
        shape, colour, label = MARKERS[kind]
        size = 90 if kind == "resolved" else 150
        ax.scatter(
            pd.DatetimeIndex(xs).to_numpy(),
            ys,
            marker=shape,
            color=colour,
            label=label,
            s=size,
            zorder=5,
            edgecolor="black",
        )
    last_day, last = values.index[-1], float(values.iloc[-1])
    unit = {"%": "%", "pt": " pt"}.get(series.unit, "")
    ax.set_title(f"{title}\n{short(last)}{unit} on {last_day.date().isoformat()}", fontsize=18, loc="left")
    locator = AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.tick_params(labelsize=14)
    ax.grid(True, alpha=0.3)
    # Below the plot, never over the data: a chart is read for its line, not its legend.
    fig.legend(loc="outside lower center", ncols=2, fontsize=11, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def render_chart(store: Store, config: Config, metric: str, period: str = "1y") -> bytes:
    """PNG of ``metric`` ("ratio", "breadth", a rule name or a metric name) over ``period``.

    Example: render_chart(store, config, "breadth", "5y")
    """
    target = resolve(config, metric)
    return _chart(store, config, target.rule, target.rules, period, [])


def chart_for_alert(store: Store, config: Config, alert: Alert | Mapping[str, Any]) -> bytes | None:
    """The chart to attach to an alert, or None when it cannot be drawn (an alert still goes out).

    It shows the year up to the alert's own day, the firing marked: an alert of a past day (a catch-up,
    ``check --as-of``) must show its firing, not whatever the latest stored year holds.
    """
    return charts_for_alerts(store, config, [alert])[0]


@dataclass(frozen=True)
class _Plan:
    """One alert's chart: its payload, what to draw, and the data window a chart of it alone would load."""

    payload: Mapping[str, Any]
    rule: Rule
    rules: tuple[Rule, ...]
    start: dt.date | None
    end: dt.date | None  # None: an alert without a day, drawn over the latest stored year (loaded apart)


def charts_for_alerts(store: Store, config: Config, alerts: Sequence[Alert | Mapping[str, Any]]) -> list[bytes | None]:
    """The chart of each alert (as ``chart_for_alert``), in order; the market data for all of them is loaded once.

    A check that fires several rules draws several charts: each is cut from one load spanning them all, the
    same days and symbols a load of its own would have read, so it is the chart it would have been alone.
    """
    plans: list[_Plan | None] = []
    for alert in alerts:
        payload = alert.to_dict() if isinstance(alert, Alert) else dict(alert)
        rule = next((r for r in config.rules if r.name == payload.get("rule")), None)
        day = payload.get("date")
        if rule is None:
            plans.append(None)
            continue
        try:
            target = resolve(config, rule.name)
        except (BotError, RuleError) as exc:
            log.warning("no chart for alert %s: %s", rule.name, exc)
            plans.append(None)
            continue
        end = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)) if day else None
        first = end - dt.timedelta(days=PERIODS["1y"] or 0) if end else None
        start = rules_start([rule, *target.rules], first, warm_up=True) if first else None
        plans.append(_Plan(payload, rule, target.rules, start, end))
    spans = [(p.start, p.end) for p in plans if p is not None and p.start and p.end]
    data = None
    if spans:
        every = list({r.name: r for p in plans if p is not None for r in (p.rule, *p.rules)}.values())
        data = load_market_data(store, config, every, end=max(e for _, e in spans), start=min(s for s, _ in spans))
    out: list[bytes | None] = []
    for p in plans:
        if p is None:
            out.append(None)
            continue
        try:
            if data is None or p.start is None or p.end is None:
                out.append(_chart(store, config, p.rule, p.rules, "1y", [p.payload]))
                continue
            window = _window(data, [p.rule, *p.rules], p.start, p.end)
            out.append(_draw_target(window, p.rule, p.rules, "1y", [p.payload]))
        except (BotError, RuleError) as exc:
            log.warning("no chart for alert %s: %s", p.rule.name, exc)
            out.append(None)
    return out


def _window(data: MarketData, rules: Sequence[Rule], start: dt.date, end: dt.date) -> MarketData:
    """The part of ``data`` that loading ``rules`` from ``start`` to ``end`` reads: their symbols, on the days
    one of them has a price, their universes and CPI releases (bot.market.load_market_data's choice)."""
    live = [r for r in rules if r.spec.enabled]
    symbols: set[str] = set()
    universes: dict[str, tuple[str, ...]] = {}
    membership: dict[str, pd.DataFrame] = {}
    for rule in live:
        symbols |= rule.symbols
        for u in rule.universes:
            if u in data.universes:
                universes[u] = data.universes[u]
                symbols |= set(universes[u])
            if getattr(rule.params, "membership", "current") != "current" and u in data.membership:
                membership[u] = data.membership[u]
                symbols |= set(membership[u].columns)
    columns = [c for c in data.close.columns if c in symbols]
    close = data.close.loc[pd.Timestamp(start) : pd.Timestamp(end), columns]
    close = close[close.notna().any(axis=1)]
    adj = None if data.adj_close is None else data.adj_close.loc[close.index, columns]
    cpi = data.cpi.loc[: pd.Timestamp(end)] if data.cpi is not None and any(r.metric.uses_cpi for r in live) else None
    return MarketData(
        close=close,
        adj_close=adj,
        universes=universes,
        membership={u: frame.reindex(close.index) for u, frame in membership.items()},
        cpi=cpi,
    )
