"""HTTP plumbing shared by every probe: timeouts, and failures mapped to categories."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from pytest_wimmelgate.errors import Category, ProbeError

DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class HttpAnswer:
    """A completed HTTP exchange, kept small enough to attach as evidence."""

    method: str
    url: str
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed_s: float

    def json(self) -> Any:
        """The body as JSON; a malformed body is a failed probe, not a crash."""
        import json

        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ProbeError(
                Category.INFRASTRUCTURE,
                f"{self.method} {self.url}: answer is not JSON ({exc.__class__.__name__})",
                {"status": self.status, "body": self.body[:500].decode("utf-8", "replace")},
            ) from None

    def evidence(self) -> dict[str, Any]:
        return {
            "request": f"{self.method} {self.url}",
            "status": self.status,
            "elapsed_ms": round(self.elapsed_s * 1000, 1),
            "body": self.body[:2000].decode("utf-8", "replace"),
        }


def call(
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    expect: tuple[int, ...] | None = (200,),
    what: str = "",
    **kwargs: Any,
) -> HttpAnswer:
    """Make one request with a timeout and map every failure to a `ProbeError`.

    Connection errors, timeouts and 5xx answers are ``infrastructure unreachable``;
    401/403 are ``configuration missing`` (credentials rejected); any other status
    outside ``expect`` is a ``product defect``. ``expect=None`` accepts any status.
    """
    label = what or f"{method} {url}"
    sender = session or requests
    try:
        response = sender.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise ProbeError(Category.INFRASTRUCTURE, f"{label}: no answer within {timeout:g} s (timeout)") from None
    except requests.ConnectionError as exc:
        raise ProbeError(Category.INFRASTRUCTURE, f"{label}: unreachable ({_short(exc)})") from None
    except requests.RequestException as exc:
        raise ProbeError(Category.INFRASTRUCTURE, f"{label}: {_short(exc)}") from None
    answer = HttpAnswer(
        method=method,
        url=url,
        status=response.status_code,
        body=response.content,
        headers=dict(response.headers),
        elapsed_s=response.elapsed.total_seconds(),
    )
    if expect is None or answer.status in expect:
        return answer
    if answer.status in (401, 403):
        category = Category.CONFIG
        problem = f"credentials rejected (HTTP {answer.status})"
    elif answer.status >= 500:
        category = Category.INFRASTRUCTURE
        problem = f"server error HTTP {answer.status}"
    else:
        category = Category.PRODUCT
        problem = f"HTTP {answer.status}, expected {'/'.join(map(str, expect))}"
    raise ProbeError(category, f"{label}: {problem}", answer.evidence())


def _short(exc: Exception) -> str:
    """A one-line cause without the nested repr noise of urllib3."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "reset by peer"):
        if marker in text:
            return marker.lower()
    return exc.__class__.__name__


def json_body(answer: HttpAnswer, label: str) -> Any:
    """The body as JSON; a malformed body names the system and request that sent it."""
    try:
        return answer.json()
    except ProbeError as exc:
        raise ProbeError(exc.category, f"{label}: HTTP {answer.status} answer is not JSON", exc.evidence) from None


def shape_error(answer: HttpAnswer, label: str, expected: str) -> ProbeError:
    """A well-formed answer of the wrong shape: the system is not what the probe expects."""
    return ProbeError(
        Category.INFRASTRUCTURE, f"{label}: HTTP {answer.status} answer is not {expected}", answer.evidence()
    )


@contextmanager
def secrets_kept(secrets: Sequence[str]) -> Iterator[None]:
    """Re-raise any `ProbeError` with the secrets masked in its reason and evidence."""
    from pytest_wimmelgate.config.secrets import SecretSet

    hidden = SecretSet.of(secrets)
    try:
        yield
    except ProbeError as exc:
        raise ProbeError(exc.category, hidden.redact(exc.reason), hidden.redact_tree(exc.evidence)) from None
