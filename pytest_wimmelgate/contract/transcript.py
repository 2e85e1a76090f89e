"""The transcript of a check's requests and answers: what it sent, what came back, how long it took.

Every exchange is recorded (also a failed or unanswered one) and attached as evidence.
Values that look secret are hidden when recorded: fields and headers whose name says
secret (``sessionToken``, ``Set-Cookie``) join the run's `SecretSet` the moment an answer
arrives, so they are masked here and in everything written later.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_wimmelgate.config.secrets import MASK, SecretSet, looks_secret

PREVIEW_CHARS = 2000
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
PUBLIC_HEADERS = frozenset({"www-authenticate", "proxy-authenticate"})  # challenges, not credentials
LEARNED_MIN_LENGTH = 8  # a value learned by its name only ("token_type": "Bearer" is no secret)


@dataclass
class Exchange:
    """One request of a step and its answer (or why there was none)."""

    step: str
    request: str
    request_headers: dict[str, str]
    request_body: str | None
    expected: list[int] | None
    at: str
    status: int | None = None
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: str | None = None
    elapsed_ms: float | None = None
    captures: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        shown = {key: value for key, value in self.__dict__.items() if value not in (None, {}, [])}
        return shown


class Transcript:
    """The exchanges of one check, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._taken = 0

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def __len__(self) -> int:
        return len(self._exchanges)

    def evidence(self) -> dict[str, Any]:
        with self._lock:
            return _evidence(self._exchanges)

    def take(self) -> dict[str, Any]:
        """The evidence of the exchanges since the last `take`."""
        with self._lock:
            fresh, self._taken = self._exchanges[self._taken :], len(self._exchanges)
            return _evidence(fresh)


def _evidence(found: list[Exchange]) -> dict[str, Any]:
    exchanges = [e.to_json() for e in found]
    total = sum(e.get("elapsed_ms") or 0 for e in exchanges)
    return {"requests": len(exchanges), "total_elapsed_ms": round(total, 1), "exchanges": exchanges}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def learn_secrets(secrets: SecretSet, headers: Mapping[str, str], body: Any) -> None:
    """Add every value an answer marks as secret by its name to the run's secret set."""
    found: list[str] = []
    for name, value in headers.items():
        if _secret_header(name):
            found.append(value)
            if name.lower() == "set-cookie":
                found.append(value.split(";", 1)[0].partition("=")[2])
    _secret_fields(body, found, depth=0)
    values = [v for v in found if isinstance(v, str) and len(v.strip()) >= LEARNED_MIN_LENGTH]
    if values:
        secrets.add(*values)


def _secret_fields(node: Any, found: list[str], depth: int) -> None:
    if depth > 20:
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, (str, int)) and not isinstance(value, bool) and looks_secret(str(key)):
                found.append(str(value))
            else:
                _secret_fields(value, found, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _secret_fields(value, found, depth + 1)


def preview(body: bytes | None, *, binary: bool = False) -> str | None:
    """A body as evidence: text up to `PREVIEW_CHARS`, or size and digest of binary content."""
    if body is None:
        return None
    if not body:
        return ""
    if not binary:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            binary = True
        else:
            return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + f"... ({len(text)} characters)"
    return f"<{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()}>"


def json_preview(tree: Any) -> str:
    text = json.dumps(tree, ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."


def shown_headers(headers: Mapping[str, str], secrets: SecretSet) -> dict[str, str]:
    """Headers for evidence: secret-looking ones masked outright, the rest redacted."""
    return {name: MASK if _secret_header(name) else secrets.redact(value) for name, value in headers.items()}


def _secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or (looks_secret(name) and lowered not in PUBLIC_HEADERS)
