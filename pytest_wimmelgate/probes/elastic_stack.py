"""What the Elasticsearch and Kibana probes share: authentication, index paths, date math,
JSON object answers.

Authentication is an API key (``Authorization: ApiKey <base64 id:key>``), HTTP basic
(``(user, password)``), credentials inside the URL (moved into basic auth), or none.
`connection` also returns the secret strings a caller must scrub from any failure.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pytest_wimmelgate.probes.http import HttpAnswer, json_body, shape_error

#: An API key (``"<base64 id:key>"``, optionally prefixed ``"ApiKey "``), a
#: ``(user, password)`` pair for basic auth, or ``None``.
Auth = str | tuple[str, str] | None


def connection(url: str, auth: Auth) -> tuple[str, dict[str, str], list[str]]:
    """``(base URL without credentials, auth headers, secret strings to scrub)``."""
    parts = urlsplit(url.rstrip("/"))
    secrets: list[str] = []
    if parts.username is not None or parts.password is not None:
        user, password = parts.username or "", parts.password or ""
        secrets += [s for s in (parts.password, f"{user}:{password}") if s]
        if auth is None:
            auth = (user, password)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    base = urlunsplit(parts)
    headers: dict[str, str] = {"Accept": "application/json"}
    if isinstance(auth, str):
        key = auth[len("ApiKey ") :] if auth.startswith("ApiKey ") else auth
        headers["Authorization"] = f"ApiKey {key}"
        secrets.append(key)
    elif auth is not None:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        secrets += [password, token]
    return base, headers, secrets


def index_path(pattern: str) -> str:
    """An index pattern as a URL path segment (``*``, ``,`` and ``-`` kept)."""
    return quote(pattern, safe="*,-_.+:")


def ago(minutes: float) -> str:
    """Elasticsearch date math for "``minutes`` ago" (whole units only: ``now-90s``)."""
    if float(minutes).is_integer():
        return f"now-{int(minutes)}m"
    return f"now-{round(minutes * 60)}s"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def json_object(answer: HttpAnswer, label: str, key: str) -> dict[str, Any]:
    """The answer's JSON object; anything else is the wrong shape (naming ``key``)."""
    data = json_body(answer, label)
    if not isinstance(data, dict):
        raise shape_error(answer, label, f"a JSON object with {key!r}")
    return data
