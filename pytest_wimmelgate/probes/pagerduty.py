"""PagerDuty probe: somebody is on call right now for a schedule.

API version followed: PagerDuty REST API v2 (``Accept:
application/vnd.pagerduty+json;version=2``, ``Authorization: Token token=<key>``),
endpoint ``GET /oncalls`` ("List all of the on-calls") with ``schedule_ids[]``,
``earliest=true``, ``since``/``until``, ``time_zone`` and classic ``limit``/``offset``
pagination (``more``). Answer: ``{"oncalls": [{"user": {"id", "summary", ...},
"schedule": {"id", ...} | null, "escalation_policy": {...}, "escalation_level": n,
"start": ..., "end": ...}], "limit", "offset", "more"}``.

On-calls are computed through escalation policies: a schedule that no escalation policy
uses has no on-call entries, and pages nobody; that is reported like an empty schedule.
``api_url`` defaults to https://api.pagerduty.com (EU accounts use the same host).
The API key never reaches a reason or evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from pytest_wimmelgate.config.secrets import uri_secrets
from pytest_wimmelgate.config.times import as_utc, parse_external_instant
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call, json_body, secrets_kept, shape_error

DEFAULT_API_URL = "https://api.pagerduty.com"
ACCEPT = "application/vnd.pagerduty+json;version=2"
_PAGE_SIZE = 100
_MAX_PAGES = 10


@dataclass(frozen=True)
class OnCallEntry:
    user_id: str
    user: str
    escalation_level: int | None
    escalation_policy: str | None
    start: str | None
    end: str | None

    def evidence(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "user": self.user,
            "escalation_level": self.escalation_level,
            "escalation_policy": self.escalation_policy,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class OnCall:
    """Who is on call for one schedule at the probed moment."""

    request: str
    schedule_id: str
    at: str | None
    entries: tuple[OnCallEntry, ...]

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(entry.user for entry in self.entries))

    def evidence(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "schedule_id": self.schedule_id,
            "at": self.at or "now (PagerDuty's clock)",
            "on_call": [entry.evidence() for entry in self.entries],
        }


def oncall_now(
    api_url: str | None,
    schedule_id: str,
    *,
    token: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    now: datetime | None = None,
) -> OnCall:
    """List who is on call for ``schedule_id`` now (or at ``now``); nobody is a product defect.

    Without ``now`` PagerDuty's own clock decides ("now" is its default range). With
    ``now`` (timezone-aware, or taken as UTC) the request asks ``since=now``,
    ``until=now+1s`` and entries whose ``start``/``end`` do not cover ``now`` are dropped.
    """
    base = (api_url or DEFAULT_API_URL).rstrip("/")
    secrets = [token, *uri_secrets(base)]
    moment = as_utc(now) if now is not None else None
    params: dict[str, Any] = {
        "schedule_ids[]": schedule_id,
        "earliest": "true",
        "time_zone": "UTC",
        "limit": _PAGE_SIZE,
    }
    if moment is not None:  # a one-second window; entries not covering ``moment`` are dropped
        params["since"] = moment.isoformat()
        params["until"] = (moment + timedelta(seconds=1)).isoformat()
    headers = {"Authorization": f"Token token={token}", "Accept": ACCEPT}
    first = f"{base}/oncalls?{urlencode({**params, 'offset': 0}, safe='[]')}"
    entries: list[OnCallEntry] = []
    with secrets_kept(secrets), requests.Session() as session:
        for page in range(_MAX_PAGES):
            target = f"{base}/oncalls?{urlencode({**params, 'offset': page * _PAGE_SIZE}, safe='[]')}"
            label = f"PagerDuty on-calls: GET {target}"
            answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
            data = json_body(answer, label)
            oncalls = data.get("oncalls") if isinstance(data, dict) else None
            if not isinstance(oncalls, list):
                raise shape_error(answer, label, "an on-calls answer with an 'oncalls' list")
            for item in oncalls:
                entry = _entry(item, schedule_id, answer, label)
                if entry is not None and _covers(entry, moment):
                    entries.append(entry)
            if not (isinstance(data, dict) and data.get("more") is True and oncalls):
                break
        result = OnCall(
            request=f"GET {first}",
            schedule_id=schedule_id,
            at=moment.isoformat() if moment else None,
            entries=tuple(entries),
        )
        if not entries:
            when = f"at {moment.isoformat()}" if moment else "now"
            raise ProbeError(
                Category.PRODUCT,
                f"no one on call for schedule {schedule_id} {when} (PagerDuty GET {first}: no on-call entries)",
                result.evidence(),
            )
        return result


def _entry(item: Any, schedule_id: str, answer: HttpAnswer, label: str) -> OnCallEntry | None:
    if not isinstance(item, dict) or not isinstance(item.get("user"), dict):
        raise shape_error(answer, label, "a list of on-calls each with a 'user'")
    schedule = item.get("schedule")
    if isinstance(schedule, dict) and schedule.get("id") not in (None, schedule_id):
        return None  # the filter should have dropped it; never count another schedule
    user = item["user"]
    policy = item.get("escalation_policy")
    level = item.get("escalation_level")
    return OnCallEntry(
        user_id=str(user.get("id", "")),
        user=str(user.get("summary") or user.get("name") or user.get("id") or "?"),
        escalation_level=level if isinstance(level, int) else None,
        escalation_policy=str(policy.get("summary") or policy.get("id")) if isinstance(policy, dict) else None,
        start=item.get("start") if isinstance(item.get("start"), str) else None,
        end=item.get("end") if isinstance(item.get("end"), str) else None,
    )


def _covers(entry: OnCallEntry, moment: datetime | None) -> bool:
    """Whether the entry's shift includes ``moment``; null start/end are open ends."""
    if moment is None:
        return True
    start, end = parse_external_instant(entry.start), parse_external_instant(entry.end)
    return (start is None or start <= moment) and (end is None or moment < end)
