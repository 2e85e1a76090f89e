"""Service level indicators, objectives and their evaluation against Prometheus.

Plain data and functions, no pytest. An `SLI` is a named PromQL template with a unit;
an `Objective` is an SLI with a comparison, a limit and a window (one row of PD-*,
RT-* or RV-4); `evaluate` runs the query and returns an `Evaluation` whose verdict is
``pass``, ``fail``, ``no data`` or ``error`` and whose ``reason`` is one line naming
the value, limit, window, query and endpoint. The environment file's mapping is read by
`pytest_wimmelgate.metrics.settings`.

Fail closed (ANCHORS: k6#1346, Argo#1905, spinnaker#5622): an empty result, NaN or ±Inf
is ``no data``, never zero and never a pass. A ratio with no traffic in the window is
0/0 = NaN, hence ``no data`` too; and a ratio over a handful of events is no measurement
either (two readiness checks, one failed, are not "50 % failures"): a ratio SLI counts
its events (``events``, the ratio's denominator, e.g.
``sum(increase(readiness_checks_total[$window]))``) and an objective over fewer than
``min_events`` (default `DEFAULT_MIN_EVENTS`) is ``no data`` naming the count.

``comparison`` states the condition that must hold for a pass, like Argo's
``successCondition``: ``"<"`` for "p95 < 300 ms", ``">"`` for "push success > 95 %".
A rollback trigger "5xx > 2 % over 5 min" is therefore written as the healthy side,
``{"sli": "error_rate_5xx_pct", "comparison": "<=", "limit": 2, "window": "5m"}``.

(Somewhat over 400 lines: the model, its judging and the words of its reasons change together.)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as fields_of
from datetime import datetime
from typing import Any

from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError

PASS = "pass"
FAIL = "fail"
NO_DATA = "no data"
ERROR = "error"
VERDICTS = (PASS, FAIL, NO_DATA, ERROR)

COMPARISONS = ("<", "<=", ">", ">=")
DEFAULT_WINDOW = "5m"
#: events a ratio needs in its window before it is judged: with 20, one bad event is 5 %
DEFAULT_MIN_EVENTS = 20
WINDOW_PLACEHOLDERS = ("${window}", "$window")

_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_UNIT_S = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def parse_duration(text: str) -> float:
    """A Prometheus duration (``30s``, ``5m``, ``1h30m``, ``0``) in seconds.

    Raises `ValueError` for anything Prometheus would reject (``5 m``, ``1.5m``, ``-5m``).
    """
    if not isinstance(text, str):
        raise ValueError(f"not a duration string: {text!r}")
    if text == "0":
        return 0.0
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return float(sum(int(g) * unit for g, unit in zip(match.groups(), _UNIT_S, strict=True) if g))


@dataclass(frozen=True)
class SLI:
    """A service level indicator: a PromQL template (``$window``) and its unit.

    A ratio also names its events: ``events`` is the PromQL of how many there were in the
    window (the ratio's denominator), ``events_label`` what one is called in reasons.
    """

    name: str
    promql: str
    unit: str
    title: str = ""
    events: str = ""
    events_label: str = "events"

    @property
    def label(self) -> str:
        return self.title or self.name

    def query(self, window: str) -> str:
        return _in_window(self.promql, window)

    def events_query(self, window: str) -> str:
        """The count of events in ``window``; "" for an SLI that counts none."""
        return _in_window(self.events, window) if self.events else ""


def _in_window(template: str, window: str) -> str:
    text = template
    for placeholder in WINDOW_PLACEHOLDERS:
        text = text.replace(placeholder, window)
    return text


def _ratio_pct(metric: str, bad: str) -> str:
    """``100 * bad / all`` over a window. A bad series that was never created is 0, not
    missing (``or vector(0)``); no traffic at all stays 0/0 = NaN, i.e. no data."""
    return f"100 * (sum(rate({metric}{{{bad}}}[$window])) or vector(0)) / sum(rate({metric}[$window]))"


def _events(metric: str) -> str:
    """How many events a ratio over ``metric`` rests on: its denominator's increase."""
    return f"sum(increase({metric}[$window]))"


DEFAULT_SLIS: Mapping[str, SLI] = {
    sli.name: sli
    for sli in (
        SLI(
            "latency_p95_ms",
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[$window]))) * 1000",
            "ms",
            "p95 latency",
        ),
        SLI(
            "error_rate_5xx_pct",
            _ratio_pct("http_requests_total", 'status=~"5.."'),
            "%",
            "5xx rate",
            _events("http_requests_total"),
            "requests",
        ),
        SLI(
            "readiness_failure_pct",
            _ratio_pct("readiness_checks_total", 'result="fail"'),
            "%",
            "readiness failures",
            _events("readiness_checks_total"),
            "readiness checks",
        ),
        SLI(
            "push_success_pct",
            _ratio_pct("push_deliveries_total", 'result="delivered"'),
            "%",
            "push delivery success",
            _events("push_deliveries_total"),
            "push deliveries",
        ),
        SLI(
            "push_failure_pct",
            _ratio_pct("push_deliveries_total", 'result="failed"'),
            "%",
            "push delivery failures",
            _events("push_deliveries_total"),
            "push deliveries",
        ),
        SLI(
            "mongodb_latency_p95_ms",
            "histogram_quantile(0.95, sum by (le) (rate(mongodb_command_duration_seconds_bucket[$window]))) * 1000",
            "ms",
            "MongoDB p95 latency",
        ),
    )
}


@dataclass(frozen=True)
class Objective:
    """One measurable requirement: ``sli <comparison> limit`` over ``window``.

    ``min_events``: the events the window must hold before the ratio is judged; left
    None, `DEFAULT_MIN_EVENTS` for an SLI that counts its events, else None (no rule).
    """

    id: str
    sli: SLI
    comparison: str
    limit: float
    window: str = DEFAULT_WINDOW
    min_events: int | None = None

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"{self.id}: comparison must be one of {COMPARISONS}")
        parse_duration(self.window)
        if self.min_events is None and self.sli.events:
            object.__setattr__(self, "min_events", DEFAULT_MIN_EVENTS)
        if self.min_events is not None and (not self.sli.events or self.min_events < 1):
            raise ValueError(f"{self.id}: min_events needs an SLI that counts its events, and at least 1")

    @property
    def query(self) -> str:
        return self.sli.query(self.window)

    @property
    def events_query(self) -> str:
        return self.sli.events_query(self.window)

    def holds(self, value: float) -> bool:
        return {
            "<": value < self.limit,
            "<=": value <= self.limit,
            ">": value > self.limit,
            ">=": value >= self.limit,
        }[self.comparison]

    def describe(self) -> str:
        """``p95 latency < 400 ms over 5m``."""
        return f"{self.sli.label} {self.comparison} {_num(self.limit)}{_unit(self.sli.unit)} over {self.window}"


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one objective at one instant, with everything that explains it."""

    objective_id: str
    sli: str
    verdict: str
    value: float | None
    limit: float
    comparison: str
    window: str
    unit: str
    query: str
    endpoint: str
    reason: str
    raw: Mapping[str, Any] | None = None
    evaluated_at: float | None = None
    #: for ``error``: why it could not be measured (infrastructure or configuration)
    category: Category | None = None
    series: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the events the ratio rests on (None: not counted) and the least it needs
    events: float | None = None
    min_events: int | None = None
    events_query: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready data (`from_dict` reads them back)."""
        data = {f.name: getattr(self, f.name) for f in fields_of(self)}
        data["category"] = str(self.category) if self.category else None
        data["raw"] = dict(self.raw) if self.raw is not None else None
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        values = dict(data)
        values["category"] = Category(values["category"]) if values.get("category") else None
        return cls(**values)

    def evidence(self) -> dict[str, Any]:
        counted = {}
        if self.events is not None:
            counted = {"events": self.events, "min_events": self.min_events, "events_query": self.events_query}
        return {
            "objective": self.objective_id,
            "sli": self.sli,
            "verdict": self.verdict,
            "value": self.value,
            "unit": self.unit,
            "comparison": self.comparison,
            "limit": self.limit,
            "window": self.window,
            "query": self.query,
            "endpoint": self.endpoint,
            "evaluated_at": self.evaluated_at,
            "reason": self.reason,
            "category": str(self.category) if self.category else None,
            "series": self.series,
            **counted,
            "raw": dict(self.raw) if self.raw is not None else None,
            **dict(self.extra),
        }


def judge(
    objective: Objective,
    values: Sequence[float],
    *,
    endpoint: str,
    query: str | None = None,
    raw: Mapping[str, Any] | None = None,
    evaluated_at: float | None = None,
    observed: str | None = None,
    where: str | None = None,
    note: str = "",
    events: float | None = None,
    min_events: int | None = None,
) -> Evaluation:
    """The verdict for measured ``values`` (one per series) — no I/O.

    Several series: NaN/Inf ones are ignored and the worst finite value decides (the
    largest for ``<``/``<=``, the smallest for ``>``/``>=``). No finite value: no data.
    ``events``: how many events the value rests on; fewer than ``min_events`` (default:
    the objective's) is no data, naming the count. Also used for values that did not come
    from Prometheus (the active sampler): then ``observed`` says what was measured instead
    of ``over <window>`` and ``where`` names the measurement instead of the query.
    ``note`` is appended to the reason.
    """
    query = objective.query if query is None else query
    finite = [v for v in values if math.isfinite(v)]
    label, unit = objective.sli.label, _unit(objective.sli.unit)
    in_window = observed is None
    observed = f"over {objective.window}" if observed is None else observed
    where = f"(query {query} at {endpoint})" if where is None else f"({where})"
    tail = f"; {note}" if note else ""
    needed = objective.min_events if min_events is None else min_events
    counted = None if events is None or needed is None else round(events)
    common: dict[str, Any] = dict(
        objective_id=objective.id,
        sli=objective.sli.name,
        limit=objective.limit,
        comparison=objective.comparison,
        window=objective.window,
        unit=objective.sli.unit,
        query=query,
        endpoint=endpoint,
        raw=raw,
        evaluated_at=evaluated_at,
        series=len(values),
        events=None if counted is None else float(counted),
        min_events=None if counted is None else needed,
        events_query=objective.events_query if counted is not None and in_window else "",
    )
    what = objective.sli.events_label
    if not finite:
        if values:
            shown = ", ".join(sorted({_num(v) for v in values}))
            why = f"result is {shown}, e.g. no traffic in the window"
        else:
            why = "empty result"
        reason = f"{label}: no data {observed} ({why}) {where}{tail}"
        return Evaluation(verdict=NO_DATA, value=None, reason=reason, **common)
    lower_is_better = objective.comparison in ("<", "<=")
    value = max(finite) if lower_is_better else min(finite)
    if counted is not None and needed is not None and counted < needed:
        scope = observed if in_window else f"measured {observed}"
        reason = (
            f"{label}: no data: only {counted} {what} {scope}; need at least {needed} to judge a rate"
            f" (measured {_num(value)}{unit}, not judged) {where}{tail}"
        )
        return Evaluation(verdict=NO_DATA, value=None, reason=reason, extra={"unjudged_value": value}, **common)
    relation = ">" if value > objective.limit else "<" if value < objective.limit else "="
    ok = objective.holds(value)
    series = ""
    if len(values) > 1:
        series = f", worst of {len(values)} series"
        if len(finite) < len(values):
            series += f" ({len(values) - len(finite)} without data)"
    must = "" if ok or relation != "=" else f", must be {objective.comparison} limit"
    count = f" from {counted} {what}" if counted is not None and in_window else ""
    reason = (
        f"{label} {_num(value)}{unit} {relation} limit {_num(objective.limit)}{unit}"
        f" {observed}{count}{series}{must} {where}{tail}"
    )
    return Evaluation(verdict=PASS if ok else FAIL, value=value, reason=reason, **common)


def evaluate(
    objective: Objective,
    prometheus_url: str,
    *,
    timeout: float = 5.0,
    now: float | datetime | None = None,
    observed: str | None = None,
    note: str = "",
) -> Evaluation:
    """Run the objective's query at ``now`` (default: Prometheus's clock) and judge it.

    A ratio's events are counted by a second query at the same instant, within what is
    left of ``timeout``. ``observed`` and ``note`` go into the reason (see `judge`), e.g.
    when ``now`` is the start of this run's first fault rather than the present.

    Never raises for an unreachable Prometheus or a rejected query: those come back as
    verdict ``error`` with their category; `raise_for` turns any non-pass into a failure.
    """
    from pytest_wimmelgate.probes import prometheus

    query = objective.query
    started = time.monotonic()
    try:
        result = prometheus.query(prometheus_url, query, time=now, timeout=timeout)
    except ProbeError as exc:
        return _unmeasured(objective, prometheus_url, query, exc)
    at = max((s.timestamp for s in result.samples), default=None)
    events: float | None = None
    if objective.events_query and any(math.isfinite(v) for v in result.values()):
        left = max(0.1, timeout - (time.monotonic() - started))
        try:
            counted = prometheus.query(
                prometheus_url, objective.events_query, time=at if now is None else now, timeout=left
            )
        except ProbeError as exc:
            return _unmeasured(objective, prometheus_url, objective.events_query, exc)
        events = sum(v for v in counted.values() if math.isfinite(v))
    evaluation = judge(
        objective,
        result.values(),
        endpoint=prometheus_url,
        query=query,
        raw=result.raw,
        evaluated_at=at,
        observed=observed,
        note=note,
        events=events,
    )
    if result.warnings:
        evaluation = replace(evaluation, extra={**evaluation.extra, "warnings": list(result.warnings)})
    return evaluation


def _unmeasured(objective: Objective, url: str, query: str, exc: ProbeError) -> Evaluation:
    """``error``: the query (or the count of events) could not be run."""
    return Evaluation(
        objective_id=objective.id,
        sli=objective.sli.name,
        verdict=ERROR,
        value=None,
        limit=objective.limit,
        comparison=objective.comparison,
        window=objective.window,
        unit=objective.sli.unit,
        query=objective.query,
        endpoint=url,
        reason=f"{objective.sli.label}: cannot evaluate: {exc.reason}",
        raw=exc.evidence or None,
        category=exc.category,
        events_query=objective.events_query if query == objective.events_query else "",
    )


def raise_for(evaluation: Evaluation) -> None:
    """Return on ``pass``; otherwise raise `CheckFailed` with the matching category.

    fail → SLO violated; no data → no data; error → the probe's category (infrastructure
    unreachable, or configuration missing for a query Prometheus rejected).
    """
    __tracebackhide__ = True
    if evaluation.verdict == PASS:
        return
    category = {
        FAIL: Category.SLO,
        NO_DATA: Category.NO_DATA,
    }.get(evaluation.verdict, evaluation.category or Category.INFRASTRUCTURE)
    raise CheckFailed(category, f"{evaluation.objective_id}: {evaluation.reason}", evaluation.evidence())


def _num(value: float) -> str:
    """612.4, 0.0523, 500, NaN, +Inf — short and never in scientific notation for SLOs."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.6f}".rstrip("0")


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""
