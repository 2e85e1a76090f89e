"""Alertmanager API v2 probe: active alerts, posting alerts (drills), status and config.

Follows the OpenAPI spec of ``/api/v2`` (Alertmanager 0.16 and later):
``GET /api/v2/alerts`` returns ``gettableAlert`` objects (``labels``, ``annotations``,
``startsAt``, ``endsAt``, ``fingerprint``, ``receivers[].name``, ``status.state``,
``status.silencedBy``, ``status.inhibitedBy``); ``POST /api/v2/alerts`` takes a list of
``postableAlert``; ``GET /api/v2/status`` holds the running configuration as YAML text
in ``config.original`` (secrets shown as ``<secret>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call

BLOCKING_SEVERITIES = ("P1", "P2")


@dataclass(frozen=True)
class Alert:
    """One alert as Alertmanager reports it."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: str = ""
    ends_at: str = ""
    state: str = "active"
    fingerprint: str = ""
    receivers: tuple[str, ...] = ()
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def describe(self) -> str:
        """``HighErrorRate{severity="P1", env="prod"} since 2026-11-28T19:02:11Z``."""
        labels = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "alertname")
        since = f" since {self.starts_at}" if self.starts_at else ""
        return f"{self.name or '<no alertname>'}{{{labels}}}{since}"

    def evidence(self) -> dict[str, Any]:
        return {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.starts_at,
            "endsAt": self.ends_at,
            "state": self.state,
            "fingerprint": self.fingerprint,
            "receivers": list(self.receivers),
        }


@dataclass(frozen=True)
class Status:
    """``/api/v2/status``: version, cluster state and the parsed configuration."""

    version: str
    cluster_status: str
    config_text: str
    config: Mapping[str, Any]
    raw: Mapping[str, Any]


def active_alerts(
    url: str,
    *,
    filters: Mapping[str, str] | Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> list[Alert]:
    """Active alerts that are neither silenced nor inhibited.

    ``filters`` narrows the list server-side: a mapping ``{label: value}`` (equality) or
    matcher strings such as ``'severity=~"P1|P2"'``.
    """
    params: list[tuple[str, str]] = [
        ("active", "true"),
        ("silenced", "false"),
        ("inhibited", "false"),
    ]
    params.extend(("filter", matcher) for matcher in _matchers(filters))
    endpoint = _endpoint(url, "/api/v2/alerts")
    answer = _checked(
        call(
            "GET",
            endpoint,
            session=session,
            timeout=timeout,
            expect=None,
            what=f"Alertmanager GET {endpoint}",
            params=params,
        )
    )
    body = answer.json()
    if not isinstance(body, list):
        raise ProbeError(
            Category.INFRASTRUCTURE,
            f"Alertmanager GET {endpoint}: expected a list of alerts",
            answer.evidence(),
        )
    return [_alert(item) for item in body if isinstance(item, Mapping)]


def post_alerts(
    url: str,
    alerts: Iterable[Mapping[str, Any]],
    timeout: float = DEFAULT_TIMEOUT_S,
    *,
    session: requests.Session | None = None,
) -> None:
    """Post ``postableAlert`` objects (``labels`` required; ``annotations``, ``startsAt``,
    ``endsAt``, ``generatorURL`` optional) — for drills and tests."""
    payload = [dict(alert) for alert in alerts]
    for index, alert in enumerate(payload):
        if not isinstance(alert.get("labels"), Mapping) or not alert["labels"]:
            raise ValueError(f"alerts[{index}]: an alert needs a non-empty labels mapping")
    endpoint = _endpoint(url, "/api/v2/alerts")
    _checked(
        call(
            "POST",
            endpoint,
            session=session,
            timeout=timeout,
            expect=None,
            what=f"Alertmanager POST {endpoint}",
            json=payload,
        )
    )


def status(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> Status:
    """Version, cluster status and the running configuration (``config.original``)."""
    import yaml

    endpoint = _endpoint(url, "/api/v2/status")
    what = f"Alertmanager GET {endpoint}"
    answer = _checked(call("GET", endpoint, session=session, timeout=timeout, expect=None, what=what))
    body = answer.json()
    text = body.get("config", {}).get("original") if isinstance(body, Mapping) else None
    if not isinstance(text, str):
        raise ProbeError(
            Category.INFRASTRUCTURE,
            f"Alertmanager GET {endpoint}: answer has no config.original",
            answer.evidence(),
        )
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ProbeError(
            Category.CONFIG,
            f"Alertmanager GET {endpoint}: config.original is not YAML ({exc.__class__.__name__})",
            answer.evidence(),
        ) from None
    if not isinstance(config, Mapping):
        raise ProbeError(
            Category.CONFIG,
            f"Alertmanager GET {endpoint}: config.original is not a mapping",
            answer.evidence(),
        )
    return Status(
        version=str(body.get("versionInfo", {}).get("version", "")),
        cluster_status=str(body.get("cluster", {}).get("status", "")),
        config_text=text,
        config=config,
        raw=body,
    )


def blocking_alerts(
    alerts: Iterable[Alert],
    severities: Sequence[str] = BLOCKING_SEVERITIES,
    label: str = "severity",
) -> list[Alert]:
    """The active, unsilenced, uninhibited alerts whose ``label`` is one of ``severities``.

    Severity values compare case-insensitively and ignore surrounding blanks, so that a
    ``p1`` never slips through a gate that blocks on ``P1`` (GL-4 fails closed).
    """
    wanted = {s.strip().upper() for s in severities}
    return [
        alert
        for alert in alerts
        if alert.state == "active"
        and not alert.silenced_by
        and not alert.inhibited_by
        and alert.labels.get(label, "").strip().upper() in wanted
    ]


def _checked(answer: HttpAnswer) -> HttpAnswer:
    """2xx passes. A wrong URL, rejected credentials or a rejected request (e.g. a bad
    filter, whose message Alertmanager sends back) is configuration; 5xx is infrastructure."""
    if 200 <= answer.status < 300:
        return answer
    if answer.status >= 500:
        category, problem = Category.INFRASTRUCTURE, f"server error HTTP {answer.status}"
    elif answer.status in (401, 403):
        category, problem = Category.CONFIG, f"credentials rejected (HTTP {answer.status})"
    elif answer.status == 404:
        category = Category.CONFIG
        problem = "no Alertmanager API v2 there (HTTP 404); check the configured URL"
    else:
        message = " ".join(answer.body[:300].decode("utf-8", "replace").split())
        category, problem = Category.CONFIG, f"request rejected (HTTP {answer.status}): {message}"
    raise ProbeError(category, f"Alertmanager {answer.method} {answer.url}: {problem}", answer.evidence())


def _alert(item: Mapping[str, Any]) -> Alert:
    state = item.get("status") or {}
    return Alert(
        labels={str(k): str(v) for k, v in (item.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
        starts_at=str(item.get("startsAt", "")),
        ends_at=str(item.get("endsAt", "")),
        state=str(state.get("state", "")),
        fingerprint=str(item.get("fingerprint", "")),
        receivers=tuple(str(r.get("name", "")) for r in item.get("receivers") or ()),
        silenced_by=tuple(str(s) for s in state.get("silencedBy") or ()),
        inhibited_by=tuple(str(s) for s in state.get("inhibitedBy") or ()),
    )


def _matchers(filters: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if filters is None:
        return []
    if isinstance(filters, Mapping):
        return [f"{name}={_quote(str(value))}" for name, value in filters.items()]
    if isinstance(filters, str):
        return [filters]
    return [str(matcher) for matcher in filters]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _endpoint(url: str, path: str) -> str:
    return url.rstrip("/") + path
