"""Values that are secret from the start of a run, whatever their names say.

- Credentials inline in any URL of the environment file (``https://user:pass@host``,
  also a user alone: ``https://<token>@host``), as written and decoded.
- Every header value of the contract written literally (common, session and step
  headers), e.g. an application id, except headers that only describe content
  (``Content-Type``, ``Accept`` …). A header made from ``{{ token }}`` is secret through
  its captured value; run values (``{{ run.id }}``) are not secrets.

`startup_secrets` returns them; the run adds them to its `SecretSet` before anything is
written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pytest_wimmelgate.config.credentials import parse_uri
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.contract.templates import Template

PUBLIC_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "cache-control", "content-type", "content-encoding", "user-agent"}
)
MIXED_LITERAL_MIN = 8  # literal text next to a placeholder ("Bearer ") is a scheme, not a secret


def startup_secrets(environment: Any, backend: BackendSettings | None = None) -> set[str]:
    """Secrets of a resolved environment tree and of the parsed backend contract."""
    found = set(url_credentials(environment))
    if backend is not None:
        found.update(header_secrets(backend))
    return {value for value in found if value}


def url_credentials(node: Any) -> Iterator[str]:
    """The user-info of every URL in a JSON-like tree, as written and decoded."""
    for text in _texts(node, depth=0):
        if "://" not in text or "@" not in text:
            continue
        uri = parse_uri(text.strip())
        if uri is None or not uri.has_userinfo:
            continue
        yield from (uri.userinfo_raw, uri.userinfo)
        if uri.has_password:
            yield from (uri.password_raw, uri.password)
        else:  # a user alone is the credential (a token in the user-info)
            yield from (uri.username_raw, uri.username)


def header_secrets(backend: BackendSettings) -> Iterator[str]:
    """Literal header values of the contract (see the module docstring)."""
    contract = backend.contract
    groups: list[Mapping[str, Template]] = [contract.headers, contract.session_headers]
    groups.extend(step.headers for step in contract.steps.values())
    for headers in groups:
        for name, template in headers.items():
            if name.lower() in PUBLIC_HEADERS:
                continue
            if not template.names:
                yield template.literal
                yield template.literal.strip()
            else:
                for text, is_name in template.parts:
                    if not is_name and len(text.strip()) >= MIXED_LITERAL_MIN:
                        yield text.strip()


def _texts(node: Any, depth: int) -> Iterator[str]:
    if depth > 30:
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _texts(value, depth + 1)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _texts(value, depth + 1)
