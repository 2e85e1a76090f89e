"""The Kibana probe against a fake Kibana / OpenSearch Dashboards (and Elasticsearch for
hit counts) speaking the documented shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import kibana

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
PATTERN = "backend-staging-*"
COUNT_OK = {"count": 42, "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0}}


# --------------------------------------------------------------------------- saved_searches

SEARCH_SOURCE = {
    "query": {"query": "status:(401 OR 429)", "language": "lucene"},
    "filter": [
        {"meta": {"disabled": False, "negate": False}, "query": {"match_phrase": {"service": "api"}}},
        {"meta": {"disabled": True, "negate": False}, "query": {"match_phrase": {"x": "ignored"}}},
        {"meta": {"disabled": False, "negate": True}, "query": {"match_phrase": {"path": "/health"}}},
    ],
    "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
}


def _saved_search(object_id: str, title: str, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "search",
        "id": object_id,
        "namespaces": ["default"],
        "attributes": {
            "title": title,
            "columns": ["message"],
            "sort": [["@timestamp", "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)},
        },
        "references": [
            {
                "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                "type": "index-pattern",
                "id": "dv-backend",
            }
        ],
        "updated_at": "2026-11-20T10:00:00.000Z",
        "version": "WzEsMV0=",
    }


SAVED = {
    "Auth 401/429": _saved_search("s-auth", "Auth 401/429", SEARCH_SOURCE),
    "MongoDB Ping Fehler": _saved_search(
        "s-mongo",
        "MongoDB Ping Fehler",
        {
            "query": {"query": 'message : "ping failed"', "language": "kuery"},
            "filter": [],
            "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        },
    ),
    "Push-Zustellung fehlgeschlagen": _saved_search(
        "s-push",
        "Push-Zustellung fehlgeschlagen",
        {
            "query": {"query": "", "language": "kuery"},
            "filter": [],
            "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
        },
    ),
}
TITLES = list(SAVED)


def _serve_kibana(httpserver: HTTPServer, saved: dict[str, Any], xsrf: str = "kbn-xsrf") -> list[str]:
    searched: list[str] = []

    def find(request: Request) -> Response:
        assert request.args["type"] == "search"
        assert request.args["search_fields"] == "title"
        assert request.headers.get("Authorization") == f"ApiKey {API_KEY}"
        assert request.headers.get(xsrf) == "true"
        phrase = request.args["search"]
        searched.append(phrase)
        title = phrase.strip('"')
        # Kibana's phrase search also returns near titles: the probe must pick exactly
        objects = [saved[title]] if title in saved else []
        objects.append(_saved_search("s-near", f"{title} (alt)", {"query": {}}))
        body = {"page": 1, "per_page": 100, "total": len(objects), "saved_objects": objects}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/api/saved_objects/_find", method="GET").respond_with_handler(find)
    httpserver.expect_request("/api/saved_objects/index-pattern/dv-backend").respond_with_json(
        {
            "id": "dv-backend",
            "type": "index-pattern",
            "attributes": {"title": PATTERN, "timeFieldName": "@timestamp"},
            "references": [],
        }
    )
    return searched


def test_saved_searches_found_with_hit_counts_where_possible(httpserver: HTTPServer, no_secret: Any) -> None:
    searched = _serve_kibana(httpserver, SAVED)
    counted: list[Any] = []

    def count(request: Request) -> Response:
        counted.append(request.get_json())
        return Response(json.dumps({**COUNT_OK, "count": 7}), content_type="application/json")

    httpserver.expect_request(
        f"/es/{PATTERN}/_count", method="POST", headers={"Authorization": f"ApiKey {API_KEY}"}
    ).respond_with_handler(count)
    base = httpserver.url_for("").rstrip("/")

    result = kibana.saved_searches(base, TITLES, auth=API_KEY, es_url=f"{base}/es", since_minutes=30)

    assert searched == ['"Auth 401/429"', '"MongoDB Ping Fehler"', '"Push-Zustellung fehlgeschlagen"']
    auth, mongo, push = result.searches
    assert (auth.found, auth.id, auth.hits, auth.index_pattern) == (True, "s-auth", 7, PATTERN)
    assert mongo.found and mongo.hits is None
    assert "kuery query needs Kibana to translate it" in (mongo.note or "")
    assert push.found and push.hits == 7  # an empty KQL query is match_all
    assert counted[0] == {
        "query": {
            "bool": {
                "must": [{"query_string": {"query": "status:(401 OR 429)", "analyze_wildcard": True}}],
                "filter": [
                    {"match_phrase": {"service": "api"}},
                    {"range": {"@timestamp": {"gte": "now-30m"}}},
                ],
                "must_not": [{"match_phrase": {"path": "/health"}}],
            }
        }
    }
    assert result.missing == ()
    no_secret(result.evidence(), API_KEY)


def test_saved_searches_without_es_url_say_why_there_is_no_count(httpserver: HTTPServer) -> None:
    _serve_kibana(httpserver, SAVED)

    result = kibana.saved_searches(httpserver.url_for("/"), TITLES[:1], auth=API_KEY)

    assert result.searches[0].hits is None
    assert result.searches[0].note == "hit count not computed: no Elasticsearch URL given"


def test_a_failing_count_is_a_note_not_a_failure(httpserver: HTTPServer, no_secret: Any) -> None:
    _serve_kibana(httpserver, SAVED)
    httpserver.expect_request(f"/es/{PATTERN}/_count", method="POST").respond_with_data(f"boom {API_KEY}", status=503)
    base = httpserver.url_for("").rstrip("/")

    result = kibana.saved_searches(base, TITLES[:1], auth=API_KEY, es_url=f"{base}/es")

    note = result.searches[0].note or ""
    assert note.startswith("hit count not computed: [infrastructure unreachable]")
    no_secret(result.evidence(), API_KEY)


def test_missing_saved_searches_are_a_product_defect_naming_them(httpserver: HTTPServer) -> None:
    _serve_kibana(httpserver, {"Auth 401/429": SAVED["Auth 401/429"]})

    with pytest.raises(ProbeError) as caught:
        kibana.saved_searches(httpserver.url_for("/"), TITLES, auth=API_KEY)

    error = caught.value
    assert error.category is Category.PRODUCT
    assert "'MongoDB Ping Fehler', 'Push-Zustellung fehlgeschlagen'" in error.reason
    assert "Auth 401/429" not in error.reason
    assert [s["found"] for s in error.evidence["searches"]] == [True, False, False]


def test_opensearch_dashboards_header_and_space(httpserver: HTTPServer) -> None:
    searched: list[str] = []

    def find(request: Request) -> Response:
        assert request.headers.get("osd-xsrf") == "true"
        searched.append(request.args["search"])
        body = {"page": 1, "per_page": 100, "total": 1, "saved_objects": [SAVED["Auth 401/429"]]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/s/ops/api/saved_objects/_find").respond_with_handler(find)
    httpserver.expect_request("/s/ops/api/saved_objects/index-pattern/dv-backend").respond_with_json(
        {"id": "dv-backend", "attributes": {"title": PATTERN}}
    )

    result = kibana.saved_searches(httpserver.url_for("/"), ["auth  401/429"], api="opensearch", space="ops")

    assert result.searches[0].found  # case and whitespace do not matter
    assert searched == ['"auth  401/429"']


def test_unknown_dashboards_api_is_a_config_error() -> None:
    with pytest.raises(ProbeError) as caught:
        kibana.saved_searches("http://127.0.0.1:9", TITLES, api="grafana")  # type: ignore[arg-type]

    assert caught.value.category is Category.CONFIG


def test_saved_searches_failures(failure: Any) -> None:
    base = failure.serve("/api/saved_objects/_find", "GET", secret=API_KEY)

    with pytest.raises(ProbeError) as caught:
        kibana.saved_searches(base, TITLES, auth=API_KEY, timeout=failure.timeout)

    failure.check(caught.value, API_KEY)
