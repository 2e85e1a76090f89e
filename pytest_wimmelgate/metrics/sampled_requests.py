"""Which requests active sampling sends: the one place that decides it.

Latency and 5xx SLIs are sampled over requests that touch the database, never over
``/health`` alone (which answers while the database is down). Until the backend
contract marks its requests (``touches_database`` in `pytest_wimmelgate.contract`), the
plan comes from the environment's ``backend.paths``:

- the readiness request (``GET paths.readiness``): it pings the database;
- one data request (``GET paths.messages?tag=<run id>``, the run's own messages, i.e.
  none): a database query behind the smoke account's login, which is sent first, once
  per sample, and counts as a sampled request too.

Without a smoke account only the readiness request is planned, and the reason says so.
When the contract lands, `sampled_requests` builds the same `SamplingPlan` from
``contract.database_steps()`` (readiness, ``message_list`` with the login's token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_wimmelgate.metrics.sampler import Outcome, Target

RUN_HEADER = "X-Wimmelgate-Run"


@dataclass(frozen=True)
class SamplingPlan:
    """The requests of one sample: a login first (when any target needs a token), then the targets."""

    base_url: str
    targets: tuple[Target, ...]
    login: Target | None = None
    token_field: str = "token"
    needs_token: frozenset[str] = frozenset()
    not_planned: Mapping[str, str] = field(default_factory=dict)

    def with_token(self, token: str) -> tuple[Target, ...]:
        """The targets, those that need it carrying ``Authorization: Bearer <token>``."""
        return tuple(
            replace(t, headers={**t.headers, "Authorization": f"Bearer {token}"}) if t.label in self.needs_token else t
            for t in self.targets
        )

    def without_token(self, why: str) -> tuple[tuple[Target, ...], dict[str, str]]:
        """The targets that need no token, and why the others are not sent."""
        kept = tuple(t for t in self.targets if t.label not in self.needs_token)
        return kept, {t.label: why for t in self.targets if t.label in self.needs_token}


def sampled_requests(
    base_url: str,
    paths: Mapping[str, Any],
    *,
    run_id: str,
    smoke_account: tuple[str, str] | None,
) -> SamplingPlan:
    """The plan of requests active sampling sends to the backend at ``base_url``."""
    base = base_url.rstrip("/")
    headers = {RUN_HEADER: run_id, "Accept": "application/json"}
    readiness_path = str(paths.get("readiness") or "/readiness")
    readiness = Target(
        f"GET {readiness_path}", "GET", base + readiness_path, headers, readiness=True, touches_database=True
    )
    messages_path = str(paths.get("messages") or "/messages")
    data_label = f"GET {messages_path}"
    if smoke_account is None:
        return SamplingPlan(base, (readiness,), not_planned={data_label: "no smoke_account configured to log in with"})
    login_path = str(paths.get("login") or "/auth/login")
    username, password = smoke_account
    login = Target(
        f"POST {login_path}",
        "POST",
        base + login_path,
        {**headers, "Content-Type": "application/json"},
        body=json.dumps({"username": username, "password": password}).encode(),
    )
    data = Target(data_label, "GET", f"{base}{messages_path}?tag={run_id}", headers, touches_database=True)
    return SamplingPlan(base, (readiness, data), login=login, needs_token=frozenset({data_label}))


def login_failure(outcome: Outcome, body: Any, token_field: str) -> str | None:
    """Why a login did not give a token (None when it did)."""
    if outcome.status is None:
        return f"login got no answer ({outcome.error})"
    if outcome.status != 200:
        return f"login answered {outcome.status}"
    if not isinstance(body, dict) or not isinstance(body.get(token_field), str) or not body[token_field]:
        return f"login answer has no {token_field!r}"
    return None
