"""Grafana probe: dashboards load, release annotations, panel images.

API version followed: the Grafana HTTP API under ``/api`` as documented for Grafana
9.x to 12.x (called "legacy" since Grafana 12.4, still served and unchanged):

* ``GET /api/search?type=dash-db&query=<title>`` (folder/dashboard search) → a list of
  ``{"uid", "title", "url", "type", "folderTitle", ...}``;
* ``GET /api/dashboards/uid/<uid>`` → ``{"dashboard": {..., "panels": [...]},
  "meta": {...}}``; panels inside rows (``type: "row"`` with ``panels`` when collapsed)
  and the pre-5.0 ``rows[].panels`` layout are counted too;
* ``POST /api/annotations`` with ``{"time", "tags", "text", "dashboardUID"?}`` →
  ``{"message": "Annotation added", "id": <id>}``;
* ``GET /render/d-solo/<uid>/_?orgId=&panelId=&width=&height=`` → ``image/png`` (needs
  the Grafana Image Renderer; without it Grafana answers 404 or 500).

Authentication: ``Authorization: Bearer <service account token>``; the token never
reaches a reason or evidence.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests

from pytest_wimmelgate.config.secrets import SecretSet, uri_secrets
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, call, json_body, secrets_kept, shape_error

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: What Grafana answers on /render when no image renderer is installed.
_NO_RENDERER = (404, 500)


@dataclass(frozen=True)
class Dashboard:
    """One required dashboard: where it is and how many panels it has."""

    title: str
    uid: str | None = None
    url: str | None = None
    folder: str | None = None
    panels: int = 0

    @property
    def loads(self) -> bool:
        return self.uid is not None and self.panels > 0

    def evidence(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "uid": self.uid,
            "url": self.url,
            "folder": self.folder,
            "panels": self.panels,
            "loads": self.loads,
        }


@dataclass(frozen=True)
class DashboardsLoad:
    grafana_url: str
    dashboards: tuple[Dashboard, ...]

    def evidence(self) -> dict[str, Any]:
        return {
            "grafana_url": self.grafana_url,
            "dashboards": [dashboard.evidence() for dashboard in self.dashboards],
        }


@dataclass(frozen=True)
class Annotation:
    """A posted release annotation; ``id`` is Grafana's annotation id."""

    id: int
    grafana_url: str
    text: str
    tags: tuple[str, ...]
    time_ms: int
    dashboard_uid: str | None

    def evidence(self) -> dict[str, Any]:
        return {
            "request": f"POST {self.grafana_url}/api/annotations",
            "id": self.id,
            "text": self.text,
            "tags": list(self.tags),
            "time_ms": self.time_ms,
            "dashboard_uid": self.dashboard_uid,
        }


@dataclass(frozen=True)
class PanelImage:
    """A rendered panel; ``png`` is None (with a ``note``) when no renderer is installed."""

    request: str
    status: int
    png: bytes | None
    note: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "png_bytes": len(self.png) if self.png is not None else None,
            "note": self.note,
        }


def dashboards_load(
    url: str,
    titles: Sequence[str],
    *,
    token: str,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> DashboardsLoad:
    """Find each dashboard by exact title and load it; each must have at least one panel.

    Titles compare after Unicode normalisation (NFKC, case folded, whitespace
    collapsed). Missing or empty dashboards are one ``product defect`` naming them all.
    """
    base = url.rstrip("/")
    secrets = [token, *uri_secrets(base)]
    headers = _headers(token)
    with secrets_kept(secrets), requests.Session() as session:
        found = []
        for title in titles:
            hit = _search(session, base, title, headers, timeout)
            if hit is None:
                found.append(Dashboard(title=title))
                continue
            uid = str(hit["uid"])
            target = f"{base}/api/dashboards/uid/{quote(uid, safe='')}"
            label = f"Grafana dashboard {title!r}: GET {target}"
            answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
            data = json_body(answer, label)
            model = data.get("dashboard") if isinstance(data, dict) else None
            if not isinstance(model, dict):
                raise shape_error(answer, label, "a dashboard answer with 'dashboard'")
            panels = count_panels(model)
            if panels is None:
                raise shape_error(answer, label, "a dashboard whose 'panels' is a list")
            found.append(
                Dashboard(
                    title=title,
                    uid=uid,
                    url=hit["url"] if isinstance(hit.get("url"), str) else None,
                    folder=hit.get("folderTitle") if isinstance(hit.get("folderTitle"), str) else None,
                    panels=panels,
                )
            )
        result = DashboardsLoad(grafana_url=base, dashboards=tuple(found))
        problems = [
            f"{d.title!r} missing" if d.uid is None else f"{d.title!r} has no panels"
            for d in result.dashboards
            if not d.loads
        ]
        if problems:
            raise ProbeError(
                Category.PRODUCT,
                f"Grafana dashboards do not load at {base}: {'; '.join(problems)}",
                result.evidence(),
            )
        return result


def count_panels(model: Mapping[str, Any]) -> int | None:
    """Panels of a dashboard model, rows not counted, panels of collapsed rows counted.

    None when ``panels`` (or legacy ``rows``) is present but not a list.
    """
    panels = model.get("panels", [])
    rows = model.get("rows", [])
    if not isinstance(panels, list) or not isinstance(rows, list):
        return None
    count = 0
    for panel in panels:
        if not isinstance(panel, dict):
            continue
        if panel.get("type") == "row":
            nested = panel.get("panels") or []
            count += sum(1 for p in nested if isinstance(p, dict) and p.get("type") != "row")
        else:
            count += 1
    for row in rows:  # dashboards of schema < 16 (Grafana < 5.0)
        if isinstance(row, dict) and isinstance(row.get("panels"), list):
            count += sum(1 for p in row["panels"] if isinstance(p, dict))
    return count


def post_release_annotation(
    url: str,
    *,
    token: str,
    version: str,
    commit: str,
    environment: str,
    dashboard_uid: str | None = None,
    tags: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT_S,
    at: datetime | None = None,
) -> Annotation:
    """Post the annotation "Release <version> (<commit>)" tagged release, environment, version.

    Without ``dashboard_uid`` it is an organisation-wide annotation (shown wherever a
    dashboard queries annotations by tag). ``at`` defaults to now.
    """
    base = url.rstrip("/")
    secrets = [token, *uri_secrets(base)]
    all_tags = tuple(dict.fromkeys(["release", environment, version, *tags]))
    moment = int((at.timestamp() if at else time.time()) * 1000)
    body: dict[str, Any] = {
        "time": moment,
        "tags": list(all_tags),
        "text": f"Release {version} ({commit})",
    }
    if dashboard_uid:
        body["dashboardUID"] = dashboard_uid
    target = f"{base}/api/annotations"
    label = f"Grafana annotation: POST {target}"
    with secrets_kept(secrets):
        answer = call("POST", target, timeout=timeout, headers=_headers(token), json=body, what=label)
        data = json_body(answer, label)
        annotation_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(annotation_id, int) or isinstance(annotation_id, bool):
            raise shape_error(answer, label, "an annotation answer with a numeric 'id'")
        return Annotation(
            id=annotation_id,
            grafana_url=base,
            text=body["text"],
            tags=all_tags,
            time_ms=moment,
            dashboard_uid=dashboard_uid,
        )


def render_panel_png(
    url: str,
    dashboard_uid: str,
    panel_id: int | str,
    *,
    token: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    width: int = 1000,
    height: int = 500,
    org_id: int = 1,
    time_from: str = "now-1h",
    time_to: str = "now",
) -> PanelImage:
    """Render one panel as PNG via ``/render/d-solo``; ``png=None`` with a note without renderer.

    A 404 or 500 from the render endpoint means (usually) that no image renderer is
    installed: that is not a failure, the screenshot is simply not available. Other
    failures keep their categories; a 200 that is not a PNG is ``infrastructure
    unreachable`` (a login page or proxy answered instead).
    """
    base = url.rstrip("/")
    secrets = [token, *uri_secrets(base)]
    query = urlencode(
        {
            "orgId": org_id,
            "panelId": panel_id,
            "width": width,
            "height": height,
            "from": time_from,
            "to": time_to,
        }
    )
    target = f"{base}/render/d-solo/{quote(dashboard_uid, safe='')}/_?{query}"
    label = f"Grafana render: GET {target}"
    with secrets_kept(secrets):
        answer = call(
            "GET",
            target,
            timeout=timeout,
            expect=(200, *_NO_RENDERER),
            headers={**_headers(token), "Accept": "image/png"},
            what=label,
        )
        if answer.status in _NO_RENDERER:
            excerpt = SecretSet.of(secrets).redact(" ".join(answer.body[:200].decode("utf-8", "replace").split()))
            return PanelImage(
                request=f"GET {target}",
                status=answer.status,
                png=None,
                note=f"no panel image: HTTP {answer.status} from the render endpoint, the"
                f" image renderer is probably not installed ({excerpt})",
            )
        if not answer.body.startswith(_PNG_MAGIC):
            kind = answer.headers.get("Content-Type", "no content type")
            raise shape_error(answer, label, f"a PNG image (got {kind})")
        return PanelImage(request=f"GET {target}", status=answer.status, png=answer.body)


# --------------------------------------------------------------------------- helpers


def _search(
    session: requests.Session,
    base: str,
    title: str,
    headers: Mapping[str, str],
    timeout: float,
) -> dict[str, Any] | None:
    target = f"{base}/api/search?{urlencode({'type': 'dash-db', 'query': title})}"
    label = f"Grafana search {title!r}: GET {target}"
    answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
    hits = json_body(answer, label)
    if not isinstance(hits, list):
        raise shape_error(answer, label, "a search answer (a JSON list)")
    wanted = _normal(title)
    for hit in hits:
        if not isinstance(hit, dict) or not isinstance(hit.get("title"), str):
            raise shape_error(answer, label, "a list of hits with 'title' and 'uid'")
        if hit.get("type", "dash-db") != "dash-db" or _normal(hit["title"]) != wanted:
            continue
        if not isinstance(hit.get("uid"), str) or not hit["uid"]:
            raise shape_error(answer, label, "a list of hits with 'title' and 'uid'")
        return hit
    return None


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
