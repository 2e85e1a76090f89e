"""The OTLP/HTTP probe against a fake collector speaking the OTLP/JSON encoding."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import otlp

TOKEN = "otlp-staging-7d1e8f2a9c"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "x-scope-orgid": "wimmelwelt"}


def _collector(
    httpserver: HTTPServer,
    *,
    accepted: Any = None,
    without_token: tuple[int, str] = (401, '{"code":16,"message":"missing token"}'),
) -> list[Request]:
    """A collector that accepts the right bearer token and answers ``without_token`` else."""
    seen: list[Request] = []

    def export(request: Request) -> Response:
        seen.append(request)
        if request.headers.get("Authorization") == f"Bearer {TOKEN}":
            body = json.dumps({} if accepted is None else accepted)
            return Response(body, status=200, content_type="application/json")
        status, body = without_token
        return Response(body, status=status, content_type="application/json")

    httpserver.expect_request("/v1/traces", method="POST").respond_with_handler(export)
    return seen


# --------------------------------------------------------------------------- headers


def test_parse_otlp_headers_decodes_and_trims() -> None:
    text = " Authorization=Bearer%20abc%3D%3D , x-scope-orgid = wimmel%2Cwelt ,, empty= ,"

    assert otlp.parse_otlp_headers(text) == {
        "Authorization": "Bearer abc==",
        "x-scope-orgid": "wimmel,welt",
        "empty": "",
    }


def test_parse_otlp_headers_later_duplicate_wins() -> None:
    assert otlp.parse_otlp_headers("a=1,a=2") == {"a": "2"}
    assert otlp.parse_otlp_headers("") == {}


@pytest.mark.parametrize("text", ["novalue", "api-key=ok,secret-without-equals", "bad key=v", "=v"])
def test_parse_otlp_headers_rejects_members_without_leaking_them(text: str) -> None:
    with pytest.raises(ProbeError) as caught:
        otlp.parse_otlp_headers(text)

    assert caught.value.category is Category.CONFIG
    assert "secret" not in str(caught.value) and "novalue" not in str(caught.value)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://c:4318", "http://c:4318/v1/traces"),
        ("http://c:4318/", "http://c:4318/v1/traces"),
        ("http://c/otlp/", "http://c/otlp/v1/traces"),
        ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
    ],
)
def test_traces_url_follows_the_endpoint_rules(endpoint: str, expected: str) -> None:
    assert otlp.traces_url(endpoint) == expected


# --------------------------------------------------------------------------- check_export


def test_export_accepted_with_token_and_refused_without(httpserver: HTTPServer, no_secret: Any) -> None:
    seen = _collector(httpserver)

    result = otlp.check_export(httpserver.url_for("/"), HEADERS, run_id="run-42", timeout=2)

    assert [r.headers.get("Authorization") for r in seen] == [f"Bearer {TOKEN}", None]
    assert all(r.headers["Content-Type"] == "application/json" for r in seen)
    assert all(r.headers["x-scope-orgid"] == "wimmelwelt" for r in seen)
    request = seen[0].get_json()
    resource_spans = request["resourceSpans"][0]
    span = resource_spans["scopeSpans"][0]["spans"][0]
    assert re.fullmatch(r"[0-9a-f]{32}", span["traceId"])
    assert re.fullmatch(r"[0-9a-f]{16}", span["spanId"])
    assert span["kind"] == 1
    assert int(span["startTimeUnixNano"]) < int(span["endTimeUnixNano"])
    run_attribute = {"key": "wimmelgate.run_id", "value": {"stringValue": "run-42"}}
    assert run_attribute in span["attributes"]
    assert run_attribute in resource_spans["resource"]["attributes"]
    assert result.status == 200 and result.unauthenticated_status == 401
    assert not result.partial
    assert result.credential_headers == ("Authorization",)
    assert result.trace_id == span["traceId"]
    no_secret(result.evidence(), TOKEN)


def test_headers_may_be_the_raw_environment_variable(httpserver: HTTPServer) -> None:
    _collector(httpserver, without_token=(403, "{}"))

    result = otlp.check_export(httpserver.url_for("/"), f"Authorization=Bearer%20{TOKEN},x-scope-orgid=wimmelwelt")

    assert result.unauthenticated_status == 403
    assert len(result.run_id) == 32  # generated when not given


def test_partial_success_is_accepted_and_reported(httpserver: HTTPServer) -> None:
    _collector(httpserver, accepted={"partialSuccess": {"rejectedSpans": "1", "errorMessage": "too old"}})

    result = otlp.check_export(httpserver.url_for("/v1/traces"), HEADERS)

    assert result.partial
    assert result.evidence()["partial_success"] == {"rejected_spans": 1, "error_message": "too old"}


def test_empty_success_body_is_accepted(httpserver: HTTPServer) -> None:
    def export(request: Request) -> Response:
        if request.headers.get("Authorization"):
            return Response(b"", status=200)
        return Response(b"", status=401)

    httpserver.expect_request("/v1/traces", method="POST").respond_with_handler(export)

    assert otlp.check_export(httpserver.url_for("/"), HEADERS).rejected_spans is None


def test_collector_accepting_exports_without_token_is_a_product_defect(httpserver: HTTPServer, no_secret: Any) -> None:
    _collector(httpserver, without_token=(200, "{}"))

    with pytest.raises(ProbeError) as caught:
        otlp.check_export(httpserver.url_for("/"), HEADERS)

    assert caught.value.category is Category.PRODUCT
    assert caught.value.reason.startswith("collector accepts exports without a token")
    no_secret(caught.value, TOKEN)


@pytest.mark.parametrize(
    ("status", "category"), [(400, Category.PRODUCT), (404, Category.PRODUCT), (503, Category.INFRASTRUCTURE)]
)
def test_other_answers_without_token_fail(httpserver: HTTPServer, status: int, category: Category) -> None:
    _collector(httpserver, without_token=(status, "{}"))

    with pytest.raises(ProbeError) as caught:
        otlp.check_export(httpserver.url_for("/"), HEADERS)

    assert caught.value.category is category
    assert f"HTTP {status}" in caught.value.reason


def test_named_auth_header_is_the_one_removed(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def export(request: Request) -> Response:
        seen.append(request)
        ok = request.headers.get("x-honeycomb-team") == TOKEN
        return Response("{}", status=200 if ok else 401, content_type="application/json")

    httpserver.expect_request("/v1/traces", method="POST").respond_with_handler(export)

    result = otlp.check_export(httpserver.url_for("/"), {"X-Honeycomb-Team": TOKEN}, auth_header="x-honeycomb-team")

    assert result.credential_headers == ("X-Honeycomb-Team",)
    assert "x-honeycomb-team" not in seen[1].headers


def test_headers_without_a_credential_are_a_config_error(httpserver: HTTPServer) -> None:
    with pytest.raises(ProbeError) as caught:
        otlp.check_export(httpserver.url_for("/"), {"x-scope-orgid": "wimmelwelt"})

    assert caught.value.category is Category.CONFIG
    assert "names present: x-scope-orgid" in caught.value.reason
    assert httpserver.log == []


def test_export_failures(failure: Any) -> None:
    base = failure.serve("/v1/traces", "POST", secret=TOKEN, wrong_shape=["not", "a", "response"])

    with pytest.raises(ProbeError) as caught:
        otlp.check_export(base, HEADERS, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_wrong_partial_success_shape_is_infrastructure(httpserver: HTTPServer) -> None:
    _collector(httpserver, accepted={"partialSuccess": {"rejectedSpans": "many"}})

    with pytest.raises(ProbeError) as caught:
        otlp.check_export(httpserver.url_for("/"), HEADERS)

    assert caught.value.category is Category.INFRASTRUCTURE
    assert "rejectedSpans" in caught.value.reason
