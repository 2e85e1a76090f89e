"""Prometheus HTTP API v1 probe: instant and range queries, loaded rules.

Follows the stable API under ``/api/v1`` (Prometheus 2.x, also 3.x): the JSON envelope
``{"status": "success"|"error", "data": ..., "errorType": ..., "error": ...,
"warnings": [...]}``. A query Prometheus rejects (``bad_data`` / ``execution``, HTTP
400/422) is ``configuration missing`` naming the query error; a Prometheus that cannot
be reached, times out or answers 5xx is ``infrastructure unreachable``. Every result
keeps the raw JSON answer for evidence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call

#: errorType values that mean "your query is wrong" rather than "Prometheus is unwell".
_QUERY_ERRORS = frozenset({"bad_data", "execution"})


@dataclass(frozen=True)
class Sample:
    """One value of an instant vector (or a scalar): labels, timestamp and value."""

    labels: Mapping[str, str]
    timestamp: float
    value: float

    @property
    def is_number(self) -> bool:
        """False for NaN and ±Inf, which are never a measurement (NaN is not zero)."""
        return math.isfinite(self.value)


@dataclass(frozen=True)
class Series:
    """One series of a range query: labels and ``(timestamp, value)`` points."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class QueryResult:
    """The answer to one query, with the raw JSON kept for evidence."""

    endpoint: str
    query: str
    result_type: str
    samples: tuple[Sample, ...] = ()
    series: tuple[Series, ...] = ()
    warnings: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.samples and not self.series

    def values(self) -> list[float]:
        """The sample values of an instant result (NaN and Inf included, as returned)."""
        return [sample.value for sample in self.samples]

    def evidence(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "query": self.query,
            "result_type": self.result_type,
            "warnings": list(self.warnings),
            "answer": dict(self.raw),
        }


@dataclass(frozen=True)
class Rule:
    """An alerting or recording rule, from ``/api/v1/rules`` or from a rule file."""

    kind: str  # "alerting" | "recording"
    name: str
    expr: str
    for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    group: str = ""
    source: str = ""
    #: from the API only: "ok" | "err" | "unknown", and the alert state
    health: str = ""
    state: str = ""
    last_error: str = ""


@dataclass(frozen=True)
class RuleGroup:
    """A rule group: name, file it was loaded from, evaluation interval and rules."""

    name: str
    file: str
    interval_s: float
    rules: tuple[Rule, ...]


def query(
    url: str,
    promql: str,
    *,
    time: float | datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> QueryResult:
    """Evaluate ``promql`` at one instant (``GET /api/v1/query``); default: server time."""
    params: dict[str, str] = {"query": promql, "timeout": _duration_param(timeout)}
    if time is not None:
        params["time"] = _time_param(time)
    endpoint = _endpoint(url, "/api/v1/query")
    data, envelope = _get(endpoint, params, timeout=timeout, session=session, promql=promql)
    return _parse_result(endpoint, promql, data, envelope)


def query_range(
    url: str,
    promql: str,
    start: float | datetime,
    end: float | datetime,
    step: float | str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> QueryResult:
    """Evaluate ``promql`` over ``[start, end]`` every ``step`` (``GET /api/v1/query_range``).

    ``step`` is seconds or a Prometheus duration string such as ``"15s"``.
    """
    params = {
        "query": promql,
        "start": _time_param(start),
        "end": _time_param(end),
        "step": step if isinstance(step, str) else f"{step:g}",
        "timeout": _duration_param(timeout),
    }
    endpoint = _endpoint(url, "/api/v1/query_range")
    data, envelope = _get(endpoint, params, timeout=timeout, session=session, promql=promql)
    return _parse_result(endpoint, promql, data, envelope)


def rules(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> list[RuleGroup]:
    """The rule groups Prometheus has loaded (``GET /api/v1/rules``), parsed."""
    endpoint = _endpoint(url, "/api/v1/rules")
    data, _ = _get(endpoint, {}, timeout=timeout, session=session, promql="")
    groups = data.get("groups") if isinstance(data, Mapping) else None
    if not isinstance(groups, list):
        raise ProbeError(
            Category.INFRASTRUCTURE,
            f"GET {endpoint}: answer has no data.groups list",
            {"answer": data},
        )
    parsed: list[RuleGroup] = []
    for group in groups:
        name = str(group.get("name", ""))
        file = str(group.get("file", ""))
        parsed.append(
            RuleGroup(
                name=name,
                file=file,
                interval_s=float(group.get("interval") or 0.0),
                rules=tuple(_api_rule(rule, name, file) for rule in group.get("rules") or ()),
            )
        )
    return parsed


def _api_rule(rule: Mapping[str, Any], group: str, file: str) -> Rule:
    return Rule(
        kind=str(rule.get("type", "")),
        name=str(rule.get("name", "")),
        expr=str(rule.get("query", "")),
        for_s=float(rule.get("duration") or 0.0),
        labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in (rule.get("annotations") or {}).items()},
        group=group,
        source=file,
        health=str(rule.get("health", "")),
        state=str(rule.get("state", "")),
        last_error=str(rule.get("lastError", "")),
    )


def _get(
    endpoint: str,
    params: Mapping[str, str],
    *,
    timeout: float,
    session: requests.Session | None,
    promql: str,
) -> tuple[Any, Mapping[str, Any]]:
    """One API call; returns ``(data, envelope)`` or raises a categorised `ProbeError`."""
    answer = call(
        "GET",
        endpoint,
        session=session,
        timeout=timeout,
        expect=None,
        what=f"Prometheus GET {endpoint}",
        params=dict(params),
    )
    if answer.status in (401, 403):
        raise ProbeError(
            Category.CONFIG,
            f"Prometheus GET {endpoint}: credentials rejected (HTTP {answer.status})",
            answer.evidence(),
        )
    envelope = _envelope(answer)
    if envelope.get("status") == "success":
        return envelope.get("data"), envelope
    error_type = str(envelope.get("errorType", "unknown"))
    message = " ".join(str(envelope.get("error", "no error message")).split())
    evidence = {**answer.evidence(), "query": promql, "answer": envelope}
    if error_type in _QUERY_ERRORS or answer.status in (400, 422):
        subject = f"query {promql!r}" if promql else f"GET {endpoint}"
        raise ProbeError(Category.CONFIG, f"Prometheus rejected {subject}: {error_type}: {message}", evidence)
    raise ProbeError(
        Category.INFRASTRUCTURE,
        f"Prometheus GET {endpoint}: {error_type}: {message} (HTTP {answer.status})",
        evidence,
    )


def _envelope(answer: HttpAnswer) -> Mapping[str, Any]:
    """The JSON envelope; anything else means a wrong URL (config) or a sick server (5xx)."""
    try:
        body = json.loads(answer.body or b"null")
    except ValueError:
        body = None
    if isinstance(body, Mapping) and body.get("status") in ("success", "error"):
        return body
    if answer.status >= 500:
        raise ProbeError(
            Category.INFRASTRUCTURE,
            f"{answer.method} {answer.url}: server error HTTP {answer.status}",
            answer.evidence(),
        )
    raise ProbeError(
        Category.CONFIG,
        f"{answer.method} {answer.url}: no Prometheus HTTP API there (HTTP {answer.status});"
        " check the configured Prometheus URL",
        answer.evidence(),
    )


def _parse_result(endpoint: str, promql: str, data: Any, envelope: Mapping[str, Any]) -> QueryResult:
    warnings = tuple(str(w) for w in envelope.get("warnings") or ())
    try:
        result_type = str(data["resultType"])
        result = data["result"]
        samples: tuple[Sample, ...] = ()
        series: tuple[Series, ...] = ()
        if result_type == "vector":
            samples = tuple(Sample(dict(item.get("metric") or {}), *_point(item["value"])) for item in result)
        elif result_type == "scalar":
            samples = (Sample({}, *_point(result)),)
        elif result_type == "matrix":
            series = tuple(
                Series(dict(item.get("metric") or {}), tuple(_point(p) for p in item["values"])) for item in result
            )
        elif result_type != "string":
            raise ValueError(f"unknown resultType {result_type!r}")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProbeError(
            Category.INFRASTRUCTURE,
            f"Prometheus GET {endpoint}: malformed query result ({exc})",
            {"query": promql, "answer": dict(envelope)},
        ) from None
    return QueryResult(endpoint, promql, result_type, samples, series, warnings, envelope)


def _point(pair: Any) -> tuple[float, float]:
    """``[ts, "value"]`` → floats; ``"NaN"``, ``"+Inf"``, ``"-Inf"`` parse as such."""
    timestamp, value = pair
    return float(timestamp), float(value)


def _endpoint(url: str, path: str) -> str:
    return url.rstrip("/") + path


def _time_param(value: float | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give Prometheus query times with a timezone")
        return f"{value.timestamp():.3f}"
    return f"{float(value):.3f}"


def _duration_param(timeout: float) -> str:
    """Ask Prometheus to give up slightly before we do, so its own error reaches us.

    The API takes a float number of seconds as well as a duration string.
    """
    return f"{max(timeout * 0.9, 0.001):.3f}"
