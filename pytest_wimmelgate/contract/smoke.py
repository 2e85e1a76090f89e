"""The smoke flows over the contract (runbook 2.2, 6): SG-4 auth, SG-5 messaging, SG-6 upload, SG-7 push.

Each flow registers an undo for everything it creates with the check's `Cleanup` the
moment it exists, so teardown removes it also after a failure. Each returns the
evidence of what it measured; a problem is a `CheckFailed` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.client import ContractClient, Flow, StepResult
from pytest_wimmelgate.contract.sessions import Session, Sessions
from pytest_wimmelgate.errors import Category, CheckFailed

UPLOAD_TYPE = "application/octet-stream"


@dataclass
class Outcome:
    """What a passed flow measured, and a note when it could verify only part of its check."""

    evidence: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


def statuses_text(statuses: tuple[int, ...]) -> str:
    return "/".join(map(str, statuses))


def check_auth(client: ContractClient, sessions: Sessions, cleanup: Cleanup, run_tag: str) -> Outcome:
    """SG-4: login works and its token is accepted; a wrong password and no token are rejected; rate limit."""
    settings = client.settings.auth
    session = sessions.opened_in(cleanup, client)
    flow = sessions.flow(session, client)
    flow.run("me")
    wrong = client.run("login", {"account.password": "wrong-" + run_tag}, expect=None, require_captures=False)
    if wrong.captures:  # a wrong password that opened a session: end it too
        cleanup.add("session opened by a wrong password", lambda: sessions.end(Session(wrong.captures), client))
    if wrong.status not in settings.wrong_password_status:
        raise CheckFailed(
            Category.PRODUCT,
            f"{wrong.step.label()} with a wrong password answered {wrong.status}, "
            f"expected {statuses_text(settings.wrong_password_status)}",
        )
    anonymous = client.run("me", expect=None, with_session=False)
    if anonymous.status not in settings.no_token_status:
        raise CheckFailed(
            Category.PRODUCT,
            f"{anonymous.step.label()} without a token answered {anonymous.status}, "
            f"expected {statuses_text(settings.no_token_status)}",
        )
    return Outcome({"rate limit": _rate_limit(client, run_tag)})


def _rate_limit(client: ContractClient, run_tag: str) -> dict[str, Any]:
    limit = client.settings.auth.rate_limit
    if limit.status is None:
        raise CheckFailed(
            Category.CONFIG,
            f"rate limit declared absent in {client.settings.source} (backend.auth.rate_limit.absent: "
            f"{limit.absent_reason}); SG-4 fails closed without one unless SG-4 is waived",
        )
    throwaway = f"ratelimit-{run_tag}@wimmelgate.test"
    statuses: list[int] = []
    for _ in range(limit.max_attempts):
        answer = client.run(
            "login", {"account.username": throwaway, "account.password": "wrong"}, expect=None, require_captures=False
        )
        statuses.append(answer.status)
        if answer.status != limit.status:
            continue
        found: dict[str, Any] = {"attempts": len(statuses), "statuses": statuses}
        if limit.retry_after_header:
            value = _header(answer, limit.retry_after_header)
            found["retry_after"] = value
            if not value:
                raise CheckFailed(Category.PRODUCT, f"{limit.status} without a {limit.retry_after_header} header")
        return found
    raise CheckFailed(
        Category.PRODUCT,
        f"no {limit.status} after {limit.max_attempts} failed logins (statuses {sorted(set(statuses))})",
    )


def check_messaging(client: ContractClient, flow: Flow, cleanup: Cleanup, run_tag: str) -> Outcome:
    """SG-5: send a message, read it back equal, delete it, and it is gone."""
    text = f"wimmelgate smoke {run_tag}"
    flow.values["message.text"] = text
    created = flow.run("message_create")
    undo = register_delete(cleanup, client, "message_delete", flow, "message", created)
    stored = flow.run("message_read")
    if stored.captures.get("message_text") != text:
        raise CheckFailed(Category.PRODUCT, "the message read back differs from the one sent")
    flow.run("message_delete")
    cleanup.done(undo)
    gone = flow.run("message_read", expect=None, require_captures=False)
    if gone.status not in client.settings.gone_status:
        raise CheckFailed(
            Category.PRODUCT,
            f"a deleted message still answers {gone.status}, expected {statuses_text(client.settings.gone_status)}",
        )
    return Outcome({"message": {k: v for k, v in created.captures.items()}})


def upload(client: ContractClient, flow: Flow, cleanup: Cleanup, *, name: str, data: bytes) -> StepResult:
    """Upload ``data``; its delete is registered at once."""
    flow.values.update({"upload.name": name, "upload.bytes": data, "upload.content_type": UPLOAD_TYPE})
    created = flow.run("upload_create")
    register_delete(cleanup, client, "upload_delete", flow, "upload", created)
    return created


def storage_of(client: ContractClient, created: StepResult, expected: str) -> str:
    """Where an upload landed (capture ``storage``); not reported fails closed, naming the field."""
    if "storage" not in {c.name for c in created.step.captures}:
        raise CheckFailed(
            Category.CONFIG,
            f"{created.step.label()}: the contract captures no 'storage' (backend.contract.upload_create.captures."
            f"storage), expected storage {expected!r}",
        )
    value = created.captures.get("storage")
    if value in (None, ""):
        raise CheckFailed(
            Category.CONTRACT,
            f"{created.step.label()} reports no storage (capture 'storage' found nothing), expected {expected!r}",
        )
    return str(value)


def download(flow: Flow, data: bytes) -> None:
    back = flow.run("upload_read").answer.body
    if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
        raise CheckFailed(Category.PRODUCT, f"downloaded {len(back)} bytes differ from the {len(data)} bytes uploaded")


def check_upload(client: ContractClient, flow: Flow, cleanup: Cleanup, *, name: str, data: bytes) -> Outcome:
    """SG-6: upload, the expected storage took it, download identical bytes, delete, gone."""
    created = upload(client, flow, cleanup, name=name, data=data)
    undo = f"upload {_first_text(created.captures)}".strip()
    expected = client.settings.expect_storage
    if expected:
        stored_in = storage_of(client, created, expected)
        if stored_in != expected:
            raise CheckFailed(
                Category.PRODUCT,
                f"upload landed in {stored_in!r}, expected {expected!r}: the {expected} storage is failing",
            )
    download(flow, data)
    flow.run("upload_delete")
    cleanup.done(undo)
    gone = flow.run("upload_read", expect=None)
    if gone.status not in client.settings.gone_status:
        raise CheckFailed(
            Category.PRODUCT,
            f"a deleted upload still answers {gone.status}, expected {statuses_text(client.settings.gone_status)}",
        )
    return Outcome({"upload": {k: v for k, v in created.captures.items()}, "bytes": len(data)})


def check_push(client: ContractClient, flow: Flow, cleanup: Cleanup, run_tag: str) -> Outcome:
    """SG-7: the test push is accepted, and delivered (or declared not verifiable, with a reason)."""
    settings = client.settings.push
    flow.values["push.text"] = f"wimmelgate smoke {run_tag}"
    accepted = flow.run("push_send")
    if client.has("push_delete") and accepted.captures:
        register_delete(cleanup, client, "push_delete", flow, "push delivery", accepted)
    evidence: dict[str, Any] = {"accepted": accepted.status, "captures": dict(accepted.captures)}
    if settings.not_verifiable is not None:
        note = f"push accepted; delivery not verified ({settings.not_verifiable})"
        return Outcome({**evidence, "delivery": "not verified", "declared": settings.not_verifiable}, note)
    if settings.delivery_request is None:
        raise CheckFailed(
            Category.CONFIG,
            f"{accepted.step.label()} accepted the push, but delivery not verifiable: the contract names no delivery "
            "status request (backend.push.delivery.request); declare backend.push.delivery.not_verifiable with a "
            "reason, or waive SG-7",
        )
    seen: list[Any] = []
    delivered = False
    deadline = time.monotonic() + settings.timeout_s
    while True:
        answer = flow.run(settings.delivery_request, require_captures=False)
        body = answer.json()
        seen.append(answer.captures.get("delivery_status", body))
        if settings.delivered is not None and settings.delivered.holds(body):
            delivered = True
            break
        if settings.pending is not None and not settings.pending.holds(body):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    evidence.update({"statuses": seen, "delivered": delivered})
    if not delivered:
        final = seen[-1] if seen else "unknown"
        wanted = settings.delivered.text if settings.delivered else "delivered"
        raise CheckFailed(
            Category.PRODUCT,
            f"test push {_first_text(accepted.captures)} ended {final!r} within {settings.timeout_s:g} s, "
            f"expected {wanted}",
            evidence,
        )
    return Outcome(evidence)


def register_delete(
    cleanup: Cleanup, client: ContractClient, step: str, flow: Flow, kind: str, created: StepResult
) -> str:
    """Register the delete of what ``created`` made, with the values known right now; returns its name."""
    values = dict(flow.values)
    identifier = _first_text(created.captures)

    def delete() -> None:
        client.run(step, values)

    what = f"{kind} {identifier}".strip()
    cleanup.add(what, delete, kind=kind, id=identifier)
    return what


def _first_text(captures: dict[str, Any]) -> str:
    """The first captured text (an id), for reasons and leftovers."""
    return next((str(v) for v in captures.values() if isinstance(v, (str, int))), "")


def _header(result: StepResult, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in result.answer.headers.items() if k.lower() == wanted), None)


__all__ = ["Outcome", "Session", "check_auth", "check_messaging", "check_push", "check_upload"]
