"""Health, version and readiness over the contract: SG-1, SG-2, SG-3 and RV-1.

Readiness is whatever request ``backend.readiness.request`` names: a dedicated endpoint
or any step that touches the database, judged by its status (``status``) and an
optional JMESPath ``condition``. Every reason names the configured request.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.contract.client import ContractClient, StepResult
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.core.waiting import poll_until
from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError, WimmelgateError
from pytest_wimmelgate.faults import FaultProvider, blocked


@dataclass(frozen=True)
class Readiness:
    """One readiness answer as the checks judge it."""

    ready: bool
    status: int | None  # None: no answer
    label: str
    body: str
    problem: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {"request": self.label, "ready": self.ready, "status": self.status, "body": self.body[:500]}


@dataclass(frozen=True)
class Release:
    """What the backend reports about the release it runs."""

    version: str | None
    commit: str | None
    label: str  # the request, e.g. "GET /health (health)"
    path: str  # the request's path, for short reasons ("/health reports …")


def readiness(client: ContractClient, values: Mapping[str, Any] | None = None) -> Readiness:
    """Send the readiness request once; its answer is judged, never raised for its status."""
    settings = client.settings.readiness
    step = client.settings.contract.step(settings.request)
    result = client.run(settings.request, values, expect=None, require_captures=False)
    body = result.answer.body.decode("utf-8", "replace")
    ready = result.status in settings.ok_status
    if ready and settings.condition is not None:
        ready = settings.condition.holds(result.json())
    return Readiness(ready, result.status, step.label(), body)


def readiness_or_none(client: ContractClient, values: Mapping[str, Any] | None = None) -> Readiness:
    """`readiness`, with no answer at all (timeout, refused) as a not-ready answer."""
    step = client.settings.contract.step(client.settings.readiness.request)
    try:
        return readiness(client, values)
    except ProbeError as error:
        return Readiness(False, None, step.label(), "", error.reason)


def expectation(client: ContractClient) -> str:
    settings = client.settings.readiness
    wanted = "/".join(map(str, settings.ok_status))
    return wanted + (f" and {settings.condition.text}" if settings.condition else "")


def require_ready(answer: Readiness, client: ContractClient, *, context: str = "") -> None:
    """SG-2: the readiness request answers ready, else a product defect naming it."""
    if answer.ready:
        return
    raise CheckFailed(
        Category.PRODUCT,
        f"{context}{answer.label} answered {answer.status}, expected {expectation(client)}: {answer.body[:200]}",
    )


def check_health(client: ContractClient) -> StepResult:
    """SG-1's first half: the health request answers as declared (status, condition)."""
    settings = client.settings.health
    result = client.run(settings.request)
    if result.status not in settings.ok_status:
        raise CheckFailed(
            Category.PRODUCT,
            f"{result.step.label()} answered {result.status}, expected {'/'.join(map(str, settings.ok_status))}",
        )
    if settings.condition is not None and not settings.condition.holds(result.json()):
        excerpt = result.answer.body[:200].decode("utf-8", "replace")
        raise CheckFailed(
            Category.PRODUCT, f"{result.step.label()}: the answer does not satisfy {settings.condition.text}: {excerpt}"
        )
    return result


def release(client: ContractClient, health: StepResult | None = None) -> Release:
    """Version and commit from the step ``backend.version.request`` (the health answer by default)."""
    name = client.settings.version
    result = health if health is not None and health.step.name == name else client.run(name, require_captures=False)
    step = result.step
    return Release(
        version=_text(result.captures.get("version")),
        commit=_text(result.captures.get("commit")),
        label=step.label(),
        path=step.path.literal or "/",
    )


def reported_version(
    settings: BackendSettings, secrets: SecretSet, *, run_id: str, timeout_s: float = 2.0
) -> str | None:
    """The version the backend reports through the contract's version request (the run's
    ``--wg-version`` fallback at start); None when it reports none or does not answer in time."""
    quick = replace(settings, timeout_s=min(settings.timeout_s, timeout_s))
    try:
        return release(ContractClient(quick, run_id, secrets)).version
    except WimmelgateError:
        return None


def require_release(
    found: Release, client: ContractClient, *, version: str | None, commit: str | None, role: str = ""
) -> None:
    """The reported version and commit match the expected ones; one not reported fails closed."""
    step = client.settings.contract.step(client.settings.version)
    declared = {c.name for c in step.captures}
    for field_name, expected, reported in (("version", version, found.version), ("commit", commit, found.commit)):
        if not expected:
            continue
        if reported is None:
            if field_name not in declared:
                raise CheckFailed(
                    Category.CONFIG,
                    f"{found.label}: the contract captures no {field_name!r} from it "
                    f"(backend.contract.{step.name}.captures.{field_name}), expected {field_name} {expected!r}",
                )
            raise CheckFailed(
                Category.CONTRACT,
                f"{found.label} reports no {field_name} (capture {field_name!r} found nothing), "
                f"expected {role}{expected!r}",
            )
        if field_name == "version" and reported != expected:
            raise CheckFailed(
                Category.PRODUCT, f"{found.path} reports version {reported!r}, expected {role}{expected!r}"
            )
        if field_name == "commit" and not (reported.startswith(expected) or expected.startswith(reported)):
            raise CheckFailed(
                Category.PRODUCT, f"{found.path} reports commit {reported!r}, expected {role}{expected!r}"
            )


def follows_blocked_database(
    client: ContractClient,
    provider: FaultProvider,
    *,
    block_bound_s: float,
    recovery_bound_s: float,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """SG-3: blocked database → the not-ready status within a bound; unblocked → ready within a bound."""
    settings = client.settings.readiness
    before = readiness(client, values)
    if not before.ready:
        raise CheckFailed(Category.PRODUCT, f"{before.label} answered {before.status} before the database was blocked")
    wanted = "/".join(map(str, settings.not_ready_status))
    timeline: dict[str, Any] = {"provider": provider.name, "request": before.label, "before": before.evidence()}
    with blocked(provider, "database"):
        started = time.monotonic()
        seen = poll_until(
            lambda: readiness_or_none(client, values).status in settings.not_ready_status,
            bound_s=block_bound_s,
            interval_s=0.25,
        )
        timeline["not_ready_after_s"] = round(time.monotonic() - started, 3) if seen else None
        last = readiness_or_none(client, values)
        timeline["while_blocked"] = last.evidence()
        if not seen:
            answered = last.status if last.status is not None else f"no answer ({last.problem})"
            raise CheckFailed(
                Category.PRODUCT,
                f"{last.label} still answered {answered} {block_bound_s:g} s after the database was blocked "
                f"(expected {wanted})",
                timeline,
            )
        unblocked_at = time.monotonic()
    recovered = poll_until(lambda: readiness_or_none(client, values).ready, bound_s=recovery_bound_s, interval_s=0.25)
    recovery_s = round(time.monotonic() - unblocked_at, 3)
    timeline["recovery_s"] = recovery_s if recovered else None
    if not recovered:
        raise CheckFailed(
            Category.PRODUCT,
            f"{before.label} did not answer {expectation(client)} within {recovery_bound_s:g} s after unblocking",
            timeline,
        )
    return timeline


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
