"""The Statuspage probe against a fake Manage API v1 ``incident_templates`` endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import statuspage

TOKEN = "8f1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
PAGE = "kctbh9vrtdwd"
PATH = f"/v1/pages/{PAGE}/incident_templates"
REQUIRED = ["API-Störung", "Push-Probleme", "DB-Failover"]


def _template(number: int, name: str, title: str = "") -> dict[str, Any]:
    return {
        "id": f"tpl{number:04d}",
        "components": [],
        "name": name,
        "title": title or name,
        "body": "Wir untersuchen das Problem.",
        "group_id": None,
        "update_status": "investigating",
        "should_tweet": False,
        "should_send_notifications": True,
    }


def test_templates_found_unicode_correctly(httpserver: HTTPServer, no_secret: Any) -> None:
    seen: list[Request] = []
    templates = [
        _template(1, "API-Sto\u0308rung"),  # combining diaeresis (NFD)
        _template(2, "push\u2011probleme"),  # non-breaking hyphen, lower case
        _template(3, "Wartung", title="DB-Failover"),  # matched by title
    ]

    def listing(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps(templates), content_type="application/json")

    httpserver.expect_request(PATH, method="GET").respond_with_handler(listing)

    result = statuspage.incident_templates(httpserver.url_for("/"), PAGE, REQUIRED, token=TOKEN, timeout=2)

    assert seen[0].headers["Authorization"] == f"OAuth {TOKEN}"
    assert seen[0].args.to_dict() == {"page": "1", "per_page": "100"}
    assert result.missing == ()
    assert result.pages_read == 1
    no_secret(result.evidence(), TOKEN)


def test_missing_templates_are_named(httpserver: HTTPServer, no_secret: Any) -> None:
    httpserver.expect_request(PATH).respond_with_json(
        [_template(1, "API-Störung"), _template(2, "Push-Probleme"), _template(3, "DB Failover")]
    )

    with pytest.raises(ProbeError) as caught:
        statuspage.incident_templates(httpserver.url_for("/"), PAGE, REQUIRED, token=TOKEN)

    error = caught.value
    assert error.category is Category.PRODUCT
    assert "missing on page kctbh9vrtdwd: 'DB-Failover'" in error.reason
    assert "API-Störung" not in error.reason
    assert error.evidence["missing"] == ["DB-Failover"]
    no_secret(error, TOKEN)


def test_all_pages_are_read(httpserver: HTTPServer) -> None:
    first = [_template(n, f"Vorlage {n}") for n in range(100)]

    def listing(request: Request) -> Response:
        body = first if request.args["page"] == "1" else [_template(500, "DB-Failover")]
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(PATH).respond_with_handler(listing)

    with pytest.raises(ProbeError) as caught:
        statuspage.incident_templates(httpserver.url_for("/"), PAGE, REQUIRED, token=TOKEN)

    assert caught.value.evidence["pages_read"] == 2
    assert caught.value.evidence["missing"] == ["API-Störung", "Push-Probleme"]


def test_a_server_ignoring_pagination_is_read_once(httpserver: HTTPServer) -> None:
    everything = [_template(n, f"Vorlage {n}") for n in range(100)]
    everything[42] = _template(42, "API-Störung")
    everything[43] = _template(43, "Push-Probleme")
    everything[44] = _template(44, "DB-Failover")
    httpserver.expect_request(PATH).respond_with_json(everything)

    result = statuspage.incident_templates(f"{httpserver.url_for('/')}v1/", PAGE, REQUIRED, token=TOKEN)

    assert result.pages_read == 2  # the second page repeated the first: stop
    assert len(result.names) == 100


def test_template_failures(failure: Any) -> None:
    base = failure.serve(PATH, "GET", secret=TOKEN)

    with pytest.raises(ProbeError) as caught:
        statuspage.incident_templates(base, PAGE, REQUIRED, token=TOKEN, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_templates_without_names_are_the_wrong_shape(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH).respond_with_json([{"id": "t1", "title": "API-Störung"}])

    with pytest.raises(ProbeError) as caught:
        statuspage.incident_templates(httpserver.url_for("/"), PAGE, REQUIRED, token=TOKEN)

    assert caught.value.category is Category.INFRASTRUCTURE


def test_default_api_url_is_statuspage() -> None:
    assert statuspage.DEFAULT_API_URL == "https://api.statuspage.io"
