"""The Grafana probe against a fake Grafana HTTP API with the documented shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import grafana

TOKEN = "glsa_Wm1x8QpLr2ZtYv5NcB3kHd7sJf0aEe9u_4c1f2e3d"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TITLES = ["Backend / API", "MongoDB", "Push/Notifications"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _hit(uid: str, title: str) -> dict[str, Any]:
    return {
        "id": 100 + len(uid),
        "uid": uid,
        "orgId": 1,
        "title": title,
        "uri": f"db/{uid}",
        "url": f"/d/{uid}/{uid}",
        "slug": "",
        "type": "dash-db",
        "tags": [],
        "isStarred": False,
        "folderUid": "ops",
        "folderTitle": "Wimmelwelt",
        "sortMeta": 0,
    }


def _dashboard(uid: str, title: str, **model: Any) -> dict[str, Any]:
    return {
        "dashboard": {"id": 1, "uid": uid, "title": title, "schemaVersion": 39, **model},
        "meta": {"type": "db", "slug": uid, "folderTitle": "Wimmelwelt", "canSave": False},
    }


PANEL = {"id": 2, "type": "timeseries", "title": "p95", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}}
DASHBOARDS = {
    "backend-api": _dashboard("backend-api", "Backend / API", panels=[PANEL, {**PANEL, "id": 3}]),
    "mongodb": _dashboard(
        "mongodb",
        "MongoDB",
        panels=[{"id": 10, "type": "row", "title": "Ops", "collapsed": True, "panels": [PANEL]}],
    ),
    "push": _dashboard("push", "Push/Notifications", rows=[{"title": "old", "panels": [PANEL]}]),
}
HITS = {
    "Backend / API": [_hit("backend-api-old", "Backend / API (old)"), _hit("backend-api", "Backend / API")],
    "MongoDB": [_hit("mongodb", "MongoDB")],
    "Push/Notifications": [_hit("push", "push/notifications")],
}


def _serve_grafana(httpserver: HTTPServer, hits: dict[str, Any], dashboards: dict[str, Any]) -> list[str]:
    queries: list[str] = []

    def search(request: Request) -> Response:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        assert request.args["type"] == "dash-db"
        queries.append(request.args["query"])
        return Response(json.dumps(hits.get(request.args["query"], [])), content_type="application/json")

    httpserver.expect_request("/api/search", method="GET").respond_with_handler(search)
    for uid, body in dashboards.items():
        httpserver.expect_request(f"/api/dashboards/uid/{uid}", headers=AUTH).respond_with_json(body)
    return queries


# --------------------------------------------------------------------------- dashboards_load


def test_dashboards_load_counts_panels_in_every_layout(httpserver: HTTPServer, no_secret: Any) -> None:
    queries = _serve_grafana(httpserver, HITS, DASHBOARDS)

    result = grafana.dashboards_load(httpserver.url_for("/"), TITLES, token=TOKEN, timeout=2)

    assert queries == TITLES
    assert [(d.uid, d.panels) for d in result.dashboards] == [("backend-api", 2), ("mongodb", 1), ("push", 1)]
    assert result.dashboards[0].url == "/d/backend-api/backend-api"
    assert result.dashboards[0].folder == "Wimmelwelt"
    no_secret(result.evidence(), TOKEN)


def test_missing_and_empty_dashboards_are_named(httpserver: HTTPServer) -> None:
    empty = _dashboard("mongodb", "MongoDB", panels=[{"id": 1, "type": "row", "collapsed": False, "panels": []}])
    _serve_grafana(
        httpserver,
        {"Backend / API": HITS["Backend / API"], "MongoDB": HITS["MongoDB"]},
        {"backend-api": DASHBOARDS["backend-api"], "mongodb": empty},
    )

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(httpserver.url_for("/"), TITLES, token=TOKEN)

    error = caught.value
    assert error.category is Category.PRODUCT
    assert "'MongoDB' has no panels" in error.reason
    assert "'Push/Notifications' missing" in error.reason
    assert "Backend / API" not in error.reason
    assert [d["loads"] for d in error.evidence["dashboards"]] == [True, False, False]


def test_dashboard_without_panels_key_is_empty(httpserver: HTTPServer) -> None:
    _serve_grafana(httpserver, HITS, {"mongodb": _dashboard("mongodb", "MongoDB")})

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(httpserver.url_for("/"), ["MongoDB"], token=TOKEN)

    assert caught.value.category is Category.PRODUCT


@pytest.mark.parametrize(
    ("model", "count"),
    [
        ({"panels": [PANEL]}, 1),
        ({"panels": [{"type": "row", "collapsed": False, "panels": []}, PANEL, PANEL]}, 2),
        ({"panels": [{"type": "row", "collapsed": True, "panels": [PANEL, PANEL]}]}, 2),
        ({"panels": [{"type": "row", "panels": []}]}, 0),
        ({"rows": [{"panels": [PANEL, PANEL]}, {"panels": []}]}, 2),
        ({}, 0),
        ({"panels": "nope"}, None),
    ],
)
def test_count_panels(model: dict[str, Any], count: int | None) -> None:
    assert grafana.count_panels(model) == count


def test_dashboards_search_failures(failure: Any) -> None:
    base = failure.serve("/api/search", "GET", secret=TOKEN)

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(base, TITLES, token=TOKEN, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_dashboard_model_failures(failure: Any, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/search").respond_with_json(HITS["MongoDB"])
    base = failure.serve("/api/dashboards/uid/mongodb", "GET", secret=TOKEN)

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(base, ["MongoDB"], token=TOKEN, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_search_hits_of_the_wrong_shape(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/search").respond_with_json([{"uid": "x"}])

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(httpserver.url_for("/"), ["MongoDB"], token=TOKEN)

    assert caught.value.category is Category.INFRASTRUCTURE
    assert "'title' and 'uid'" in caught.value.reason


# --------------------------------------------------------------------------- annotations


def test_release_annotation_is_posted(httpserver: HTTPServer, no_secret: Any) -> None:
    at = datetime(2026, 11, 28, 19, 2, 11, tzinfo=UTC)
    httpserver.expect_request(
        "/api/annotations",
        method="POST",
        headers=AUTH,
        json={
            "time": int(at.timestamp() * 1000),
            "tags": ["release", "staging", "1.4.2", "wimmelgate"],
            "text": "Release 1.4.2 (3f9c2e1)",
            "dashboardUID": "backend-api",
        },
    ).respond_with_json({"message": "Annotation added", "id": 17})

    result = grafana.post_release_annotation(
        httpserver.url_for("/"),
        token=TOKEN,
        version="1.4.2",
        commit="3f9c2e1",
        environment="staging",
        dashboard_uid="backend-api",
        tags=["wimmelgate", "release"],
        at=at,
    )

    assert result.id == 17
    assert result.tags == ("release", "staging", "1.4.2", "wimmelgate")
    no_secret(result.evidence(), TOKEN)


def test_organisation_annotation_has_no_dashboard(httpserver: HTTPServer) -> None:
    bodies: list[Any] = []

    def annotate(request: Request) -> Response:
        bodies.append(request.get_json())
        return Response(json.dumps({"message": "Annotation added", "id": 3}), content_type="application/json")

    httpserver.expect_request("/api/annotations", method="POST").respond_with_handler(annotate)

    result = grafana.post_release_annotation(
        httpserver.url_for("/"), token=TOKEN, version="1.4.2", commit="3f9c2e1", environment="production"
    )

    assert result.id == 3
    assert "dashboardUID" not in bodies[0]
    assert bodies[0]["tags"] == ["release", "production", "1.4.2"]


def test_annotation_failures(failure: Any) -> None:
    base = failure.serve("/api/annotations", "POST", secret=TOKEN, wrong_shape={"message": "Annotation added"})

    with pytest.raises(ProbeError) as caught:
        grafana.post_release_annotation(
            base,
            token=TOKEN,
            version="1.4.2",
            commit="3f9c2e1",
            environment="staging",
            timeout=failure.timeout,
        )

    failure.check(caught.value, TOKEN)


# --------------------------------------------------------------------------- render


def test_render_panel_png(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def render(request: Request) -> Response:
        seen.append(request)
        return Response(PNG, content_type="image/png")

    httpserver.expect_request("/render/d-solo/backend-api/_", headers=AUTH).respond_with_handler(render)

    image = grafana.render_panel_png(httpserver.url_for("/"), "backend-api", 2, token=TOKEN, width=800, height=400)

    assert image.png == PNG and image.note is None
    assert seen[0].args.to_dict() == {
        "orgId": "1",
        "panelId": "2",
        "width": "800",
        "height": "400",
        "from": "now-1h",
        "to": "now",
    }


@pytest.mark.parametrize("status", [404, 500])
def test_missing_renderer_gives_none_with_a_note(httpserver: HTTPServer, status: int, no_secret: Any) -> None:
    httpserver.expect_request("/render/d-solo/backend-api/_").respond_with_data(
        f"Rendering failed: No image renderer available/installed {TOKEN}", status=status
    )

    image = grafana.render_panel_png(httpserver.url_for("/"), "backend-api", 2, token=TOKEN)

    assert image.png is None
    assert f"HTTP {status}" in (image.note or "")
    assert "image renderer" in (image.note or "")
    no_secret(image.evidence(), TOKEN)


def test_render_failures(failure: Any) -> None:
    base = failure.serve("/render/d-solo/backend-api/_", "GET", secret=TOKEN)

    with pytest.raises(ProbeError) as caught:
        grafana.render_panel_png(base, "backend-api", 2, token=TOKEN, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_render_answering_html_is_not_an_image(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/render/d-solo/backend-api/_").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )

    with pytest.raises(ProbeError) as caught:
        grafana.render_panel_png(httpserver.url_for("/"), "backend-api", 2, token=TOKEN)

    assert caught.value.category is Category.INFRASTRUCTURE
    assert "not a PNG image (got text/html" in caught.value.reason


def test_credentials_inside_the_url_are_masked(httpserver: HTTPServer, no_secret: Any) -> None:
    httpserver.expect_request("/api/search").respond_with_json({"message": "invalid API key"}, status=401)
    url = httpserver.url_for("/").replace("http://", "http://admin:s3cr3t-pass@")

    with pytest.raises(ProbeError) as caught:
        grafana.dashboards_load(url, ["MongoDB"], token=TOKEN)

    assert caught.value.category is Category.CONFIG
    assert "http://***@" in caught.value.reason
    no_secret(caught.value, "s3cr3t-pass", TOKEN)
