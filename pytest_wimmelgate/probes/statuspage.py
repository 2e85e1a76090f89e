"""Statuspage probe: the incident templates the runbook relies on exist.

API version followed: Atlassian Statuspage Manage API v1 (``https://api.statuspage.io/v1``),
``GET /v1/pages/{page_id}/incident_templates`` with ``Authorization: OAuth <api key>``.
The answer is a JSON list of templates ``{"id", "name", "title", "body", "group_id",
"update_status", ...}``. The endpoint is paginated with ``page`` (from 1) and
``per_page`` (default and maximum 100) and returns no paging metadata, so pages are
fetched until one is short, empty, or repeats what was already seen (servers that
ignore ``page`` return the whole list every time).

Names compare Unicode-correctly: NFKC, case folded, whitespace collapsed, every dash
(Unicode category Pd) read as ``-``, so "API-Störung" matches whether the umlaut is
precomposed or combining and whatever hyphen the template uses. A template counts by
its ``name`` (the Templates tab) or its ``title``. The key never reaches a reason or
evidence.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from pytest_wimmelgate.config.secrets import uri_secrets
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, call, json_body, secrets_kept, shape_error

DEFAULT_API_URL = "https://api.statuspage.io"
_PER_PAGE = 100
_MAX_PAGES = 50


@dataclass(frozen=True)
class IncidentTemplates:
    """The page's templates and which required names they cover."""

    request: str
    page_id: str
    names: tuple[str, ...]
    required: tuple[str, ...]
    missing: tuple[str, ...]
    pages_read: int

    def evidence(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "page_id": self.page_id,
            "templates": list(self.names),
            "required": list(self.required),
            "missing": list(self.missing),
            "pages_read": self.pages_read,
        }


def incident_templates(
    api_url: str | None,
    page_id: str,
    required_names: Sequence[str],
    *,
    token: str,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> IncidentTemplates:
    """Read every incident template of ``page_id``; a required name missing is a product defect."""
    base = (api_url or DEFAULT_API_URL).rstrip("/")
    secrets = [token, *uri_secrets(base)]
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    path = f"{base}/v1/pages/{quote(page_id, safe='')}/incident_templates"
    headers = {"Authorization": f"OAuth {token}", "Accept": "application/json"}
    templates: list[dict[str, Any]] = []
    seen: set[str] = set()
    pages = 0
    with secrets_kept(secrets), requests.Session() as session:
        for page in range(1, _MAX_PAGES + 1):
            target = f"{path}?{urlencode({'page': page, 'per_page': _PER_PAGE})}"
            label = f"Statuspage templates: GET {target}"
            answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
            pages += 1
            batch = json_body(answer, label)
            if not isinstance(batch, list) or not all(_is_template(t) for t in batch):
                raise shape_error(answer, label, "a list of templates with a 'name'")
            fresh = [t for t in batch if _key(t) not in seen]
            seen.update(_key(t) for t in batch)
            templates += fresh
            if len(batch) < _PER_PAGE or not fresh:
                break
        names = tuple(str(t["name"]) for t in templates)
        known = {_normal(str(t.get(k))) for t in templates for k in ("name", "title") if t.get(k)}
        missing = tuple(name for name in required_names if _normal(name) not in known)
        result = IncidentTemplates(
            request=f"GET {path}",
            page_id=page_id,
            names=names,
            required=tuple(required_names),
            missing=missing,
            pages_read=pages,
        )
        if missing:
            listed = ", ".join(repr(name) for name in missing)
            raise ProbeError(
                Category.PRODUCT,
                f"Statuspage incident templates missing on page {page_id}: {listed}"
                f" ({len(names)} templates at GET {path})",
                result.evidence(),
            )
        return result


def _is_template(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("name"), str)


def _key(template: Mapping[str, Any]) -> str:
    return str(template.get("id") or template.get("name"))


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    dashed = "".join("-" if unicodedata.category(ch) == "Pd" else ch for ch in folded)
    return " ".join(dashed.split())
