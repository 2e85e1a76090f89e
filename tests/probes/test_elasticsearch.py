"""The Elasticsearch probe against a fake Elasticsearch speaking the documented shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import elasticsearch

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
PASSWORD = "pw-Kx93-secret"
PATTERN = "backend-staging-*"

COUNT_OK = {"count": 42, "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0}}
NO_HITS = {
    "took": 2,
    "timed_out": False,
    "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
    "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
}


def _hit(run_id: str) -> dict[str, Any]:
    return {
        **NO_HITS,
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "max_score": 0.0,
            "hits": [
                {
                    "_index": "backend-staging-2026.11.28",
                    "_id": "Xy12",
                    "_score": 0.0,
                    "_source": {"@timestamp": "2026-11-28T19:02:13Z", "run_id": run_id},
                }
            ],
        },
    }


# --------------------------------------------------------------------------- count_recent


def test_count_recent_posts_a_range_count_with_the_api_key(httpserver: HTTPServer, no_secret: Any) -> None:
    httpserver.expect_request(
        f"/{PATTERN}/_count",
        method="POST",
        headers={"Authorization": f"ApiKey {API_KEY}"},
        json={"query": {"range": {"@timestamp": {"gte": "now-15m"}}}},
    ).respond_with_json(COUNT_OK)

    result = elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, since_minutes=15, auth=API_KEY, timeout=2)

    assert result.count == 42
    assert result.shards_total == 3
    assert result.evidence()["window"] == "last 15 min"
    no_secret(result.evidence(), API_KEY)


def test_count_recent_accepts_a_prefixed_api_key(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        f"/{PATTERN}/_count", method="POST", headers={"Authorization": f"ApiKey {API_KEY}"}
    ).respond_with_json(COUNT_OK)

    assert elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, auth=f"ApiKey {API_KEY}").count == 42


def test_count_recent_uses_basic_auth(httpserver: HTTPServer) -> None:
    token = base64.b64encode(f"elastic:{PASSWORD}".encode()).decode()
    httpserver.expect_request(
        f"/{PATTERN}/_count", method="POST", headers={"Authorization": f"Basic {token}"}
    ).respond_with_json(COUNT_OK)

    result = elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, auth=("elastic", PASSWORD))

    assert result.count == 42


def test_credentials_in_the_url_become_basic_auth_and_stay_hidden(httpserver: HTTPServer, no_secret: Any) -> None:
    token = base64.b64encode(f"elastic:{PASSWORD}".encode()).decode()
    httpserver.expect_request(
        f"/{PATTERN}/_count", method="POST", headers={"Authorization": f"Basic {token}"}
    ).respond_with_json({"error": f"bad creds elastic:{PASSWORD}"}, status=401)
    url = httpserver.url_for("/").replace("http://", f"http://elastic:{PASSWORD}@")

    with pytest.raises(ProbeError) as caught:
        elasticsearch.count_recent(url, PATTERN)

    assert caught.value.category is Category.CONFIG
    no_secret(caught.value, PASSWORD, token)


def test_fractional_window_and_other_time_field(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        f"/{PATTERN}/_count",
        method="POST",
        json={"query": {"range": {"ts": {"gte": "now-90s"}}}},
    ).respond_with_json(COUNT_OK)

    result = elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, since_minutes=1.5, time_field="ts")

    assert result.evidence()["window"] == "last 1.5 min"


def test_zero_recent_lines_is_no_data(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/{PATTERN}/_count", method="POST").respond_with_json({**COUNT_OK, "count": 0})

    with pytest.raises(ProbeError) as caught:
        elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, since_minutes=10)

    assert caught.value.category is Category.NO_DATA
    assert "0 log lines in backend-staging-* in the last 10 min" in caught.value.reason


def test_no_matching_index_is_no_data(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/{PATTERN}/_count", method="POST").respond_with_json(
        {"count": 0, "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0}}
    )

    with pytest.raises(ProbeError) as caught:
        elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, minimum=0)

    assert caught.value.category is Category.NO_DATA
    assert "no index matches backend-staging-*" in caught.value.reason


def test_count_recent_failures(failure: Any) -> None:
    base = failure.serve(f"/{PATTERN}/_count", "POST", secret=API_KEY)

    with pytest.raises(ProbeError) as caught:
        elasticsearch.count_recent(base, PATTERN, auth=API_KEY, timeout=failure.timeout)

    failure.check(caught.value, API_KEY)


# --------------------------------------------------------------------------- find_run_marker


def test_find_run_marker_polls_until_the_line_arrives(httpserver: HTTPServer, no_secret: Any) -> None:
    bodies: list[Any] = []

    def search(request: Request) -> Response:
        bodies.append(request.get_json())
        answer = _hit("run-7f3a") if len(bodies) >= 3 else NO_HITS
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request(
        f"/{PATTERN}/_search", method="POST", headers={"Authorization": f"ApiKey {API_KEY}"}
    ).respond_with_handler(search)

    marker = elasticsearch.find_run_marker(
        httpserver.url_for("/"), PATTERN, "run-7f3a", within_s=5, poll_s=0.05, auth=API_KEY
    )

    assert marker.attempts == 3
    assert marker.doc_id == "Xy12"
    assert marker.index == "backend-staging-2026.11.28"
    assert bodies[0]["query"] == {"bool": {"filter": [{"match_phrase": {"run_id": "run-7f3a"}}]}}
    no_secret(marker.evidence(), API_KEY)


def test_find_run_marker_uses_the_given_field_and_legacy_total(httpserver: HTTPServer) -> None:
    legacy = _hit("r1")
    legacy["hits"]["total"] = 1  # OpenSearch with rest_total_hits_as_int, ES 6
    httpserver.expect_request(
        f"/{PATTERN}/_search",
        method="POST",
        json={"size": 1, "query": {"bool": {"filter": [{"match_phrase": {"labels.run": "r1"}}]}}},
    ).respond_with_json(legacy)

    marker = elasticsearch.find_run_marker(httpserver.url_for("/"), PATTERN, "r1", field="labels.run")

    assert marker.attempts == 1


def test_no_marker_within_the_bound_is_no_data(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"/{PATTERN}/_search", method="POST").respond_with_json(NO_HITS)

    with pytest.raises(ProbeError) as caught:
        elasticsearch.find_run_marker(httpserver.url_for("/"), PATTERN, "run-404", within_s=0.3, poll_s=0.1)

    error = caught.value
    assert error.category is Category.NO_DATA
    assert error.reason.startswith("no log line with run id run-404 in backend-staging-* within 0.3 s")
    assert error.evidence["attempts"] >= 2


def test_find_run_marker_failures(failure: Any) -> None:
    base = failure.serve(f"/{PATTERN}/_search", "POST", secret=API_KEY)

    with pytest.raises(ProbeError) as caught:
        elasticsearch.find_run_marker(
            base,
            PATTERN,
            "run-1",
            within_s=0.5,
            poll_s=0.1,
            auth=API_KEY,
            timeout=failure.timeout,
        )

    failure.check(caught.value, API_KEY)


def test_percent_encoded_url_credentials_are_decoded_and_hidden(httpserver: HTTPServer, no_secret: Any) -> None:
    """``p%40ss`` in the URL is the password ``p@ss`` (RFC 3986), parsed by config/credentials."""
    token = base64.b64encode(b"elastic:Kx93@secret").decode()
    httpserver.expect_request(
        f"/{PATTERN}/_count", method="POST", headers={"Authorization": f"Basic {token}"}
    ).respond_with_json({"error": "bad creds elastic:Kx93%40secret Kx93@secret"}, status=401)
    url = httpserver.url_for("/").replace("http://", "http://elastic:Kx93%40secret@")

    with pytest.raises(ProbeError) as caught:
        elasticsearch.count_recent(url, PATTERN)

    assert caught.value.category is Category.CONFIG
    no_secret(caught.value, "Kx93%40secret", "Kx93@secret", token)


def test_an_api_key_scheme_in_any_case_is_not_sent_twice(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        f"/{PATTERN}/_count", method="POST", headers={"Authorization": f"ApiKey {API_KEY}"}
    ).respond_with_json(COUNT_OK)

    assert elasticsearch.count_recent(httpserver.url_for("/"), PATTERN, auth=f"apikey {API_KEY}").count == 42
