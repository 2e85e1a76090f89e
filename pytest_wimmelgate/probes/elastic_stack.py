"""What the Elasticsearch and Kibana probes share: authentication, index paths, date math,
JSON object answers.

Authentication is an API key (``Authorization: ApiKey <base64 id:key>``), HTTP basic
(``(user, password)``), credentials inside the URL (moved into basic auth), or none.
URLs and ``Authorization`` values are parsed by `pytest_wimmelgate.config.credentials`.
`connection` also returns the secret strings a caller must scrub from any failure.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from pytest_wimmelgate.config.credentials import parse_uri, split_authorization
from pytest_wimmelgate.probes.http import HttpAnswer, json_body, shape_error

#: An API key (``"<base64 id:key>"``, optionally prefixed ``"ApiKey "``), a
#: ``(user, password)`` pair for basic auth, or ``None``.
Auth = str | tuple[str, str] | None


def connection(url: str, auth: Auth) -> tuple[str, dict[str, str], list[str]]:
    """``(base URL without credentials, auth headers, secret strings to scrub)``.

    Credentials in the URL are read by `pytest_wimmelgate.config.credentials.parse_uri`
    (percent-decoded); an API key may carry its scheme in any case (``apikey <key>``).
    """
    base = url.strip().rstrip("/")
    secrets: list[str] = []
    parts = parse_uri(base)
    if parts is not None and parts.has_userinfo:
        secrets += [s for s in (parts.password_raw, parts.password, parts.userinfo_raw, parts.userinfo) if s]
        if auth is None:
            auth = (parts.username, parts.password)
        query = f"?{parts.query}" if parts.query else ""
        base = f"{parts.scheme}://{','.join(parts.hosts)}{parts.path}{query}"
    headers: dict[str, str] = {"Accept": "application/json"}
    if isinstance(auth, str):
        scheme = split_authorization(auth)
        key = scheme.token if scheme is not None and scheme.is_scheme("ApiKey") else auth.strip()
        headers["Authorization"] = f"ApiKey {key}"
        secrets.append(key)
    elif auth is not None:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        secrets += [s for s in (password, token) if s]
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
