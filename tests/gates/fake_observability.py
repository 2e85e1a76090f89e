"""A documented-shape fake of the observability stack, served by a `pytest_httpserver.HTTPServer`.

One server plays four systems under their own path prefix, each speaking the request and
response shapes the probes' own tests use (``tests/probes/``):

* ``/es``: Elasticsearch REST 8.x: ``POST /<pattern>/_count`` and ``POST /<pattern>/_search``
  (``ApiKey`` auth). A search answers one hit whose ``run_id`` is the run id the request's
  ``match_phrase`` asks for, read from the request body.
* ``/kibana``: Kibana 8.x saved objects: ``GET /api/saved_objects/_find?type=search`` with
  the three saved searches of runbook section 4, and ``GET /api/saved_objects/index-pattern/<id>``.
* ``/otlp``: an OTLP/HTTP collector: ``POST /v1/traces`` accepts ``Authorization: Bearer
  <token>`` and answers 401 without it.
* ``/grafana``: Grafana HTTP API: ``GET /api/search``, ``GET /api/dashboards/uid/<uid>``
  (dashboards with panels) and ``POST /api/annotations``.

Switches on `FakeObservability` break one part at a time. Error bodies echo the presented
credential, as careless proxies do, so a gate run proves that the plugin scrubs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

GRAFANA_TOKEN = "glsa_GateFake7Qp2Lr9ZtYv5NcB3kHd7sJf0_a1b2c3d4"
OTLP_TOKEN = "otlp-gate-fake-5e8d2c7a9b1f"
LOGS_API_KEY = "R2F0ZUZha2VJZDpnYXRlLWZha2Uta2V5LTkxYzM="
SECRETS = (GRAFANA_TOKEN, OTLP_TOKEN, LOGS_API_KEY)

DASHBOARDS = {"backend-api": "Backend / API", "mongodb": "MongoDB", "push": "Push/Notifications"}
SAVED_SEARCHES = {
    "s-auth": ("Auth 401/429", {"query": "status:(401 OR 429)", "language": "lucene"}),
    "s-mongo": ("MongoDB Ping Fehler", {"query": 'message : "ping failed"', "language": "kuery"}),
    "s-push": ("Push-Zustellung fehlgeschlagen", {"query": "event:push_failed", "language": "lucene"}),
}
_DATA_VIEW = "dv-backend"
_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
_SHARDS = {"total": 3, "successful": 3, "skipped": 0, "failed": 0}


@dataclass
class FakeObservability:
    """Elasticsearch, Kibana, an OTLP collector and Grafana on one test HTTP server.

    Switches (set before the gate run): ``grafana_unauthorized`` (Grafana answers 401 to
    everything), ``marker_present`` (False: ES never has this run's log line),
    ``collector_requires_token`` (False: the collector accepts exports without a token).
    What the gate sent is recorded in ``annotations``, ``marker_searches`` (the run ids
    asked for) and ``exports`` (the ``Authorization`` header of each export, or None).
    """

    server: HTTPServer
    index_pattern: str = "backend-obs-*"
    grafana_unauthorized: bool = False
    marker_present: bool = True
    collector_requires_token: bool = True
    annotations: list[dict[str, Any]] = field(default_factory=list)
    marker_searches: list[str] = field(default_factory=list)
    exports: list[str | None] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def install(self) -> FakeObservability:
        self.server.expect_request(re.compile(r"/.*")).respond_with_handler(self._dispatch)
        return self

    def url(self, prefix: str) -> str:
        return self.server.url_for(prefix).rstrip("/")

    def environment_sections(self) -> str:
        """The ``logs``, ``otlp`` and ``grafana`` sections of an environment file (YAML).

        Secrets come from variables, as in staging: ``LOGS_API_KEY``, ``GRAFANA_TOKEN``,
        ``OTEL_EXPORTER_OTLP_HEADERS`` (see `variables`).
        """
        return f"""
logs:
  url: {self.url("/es")}
  index_pattern: "{self.index_pattern}"
  api_key: ${{LOGS_API_KEY}}
  timeout_s: 2
  marker_within_s: 3
  dashboards_url: {self.url("/kibana")}
  dashboards_api: kibana
otlp:
  endpoint: {self.url("/otlp")}
  headers: ${{OTEL_EXPORTER_OTLP_HEADERS}}
  timeout_s: 2
grafana:
  url: {self.url("/grafana")}
  token: ${{GRAFANA_TOKEN}}
  timeout_s: 2
"""

    @staticmethod
    def variables() -> dict[str, str]:
        return {
            "LOGS_API_KEY": LOGS_API_KEY,
            "GRAFANA_TOKEN": GRAFANA_TOKEN,
            "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{OTLP_TOKEN},x-scope-orgid=wimmelwelt",
        }

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        for prefix, handler in (
            ("/es/", self._elasticsearch),
            ("/kibana/", self._kibana),
            ("/otlp/", self._collector),
            ("/grafana/", self._grafana),
        ):
            if path.startswith(prefix):
                answer = handler(request, path[len(prefix) - 1 :])
                if answer is not None:
                    return answer
        self.unknown.append(f"{request.method} {path}")
        return _json({"error": "not found", "path": path}, 404)

    # ------------------------------------------------------------------ Elasticsearch

    def _elasticsearch(self, request: Request, path: str) -> Response | None:
        if request.headers.get("Authorization") != f"ApiKey {LOGS_API_KEY}":
            return _json(
                _es_error(401, "security_exception", f"unable to authenticate {request.headers.get('Authorization')}"),
                401,
            )
        target, _, action = path.lstrip("/").rpartition("/")
        if request.method != "POST" or action not in ("_count", "_search"):
            return None
        if target != self.index_pattern:  # no index matches: ES counts over zero shards
            empty = {"total": 0, "successful": 0, "skipped": 0, "failed": 0}
            if action == "_count":
                return _json({"count": 0, "_shards": empty})
            return _json(_search_answer(empty, []))
        if action == "_count":
            return _json({"count": 128, "_shards": _SHARDS})
        body = request.get_json(silent=True) or {}
        phrases = _match_phrases(body.get("query"))
        self.marker_searches.extend(str(run_id) for _, run_id in phrases)
        if not phrases or not self.marker_present:
            return _json(_search_answer(_SHARDS, []))
        field_name, run_id = phrases[0]
        hit = {
            "_index": "backend-obs-2026.11.28",
            "_id": "gate-fake-1",
            "_score": 0.0,
            "_source": {"@timestamp": "2026-11-28T19:02:13Z", "level": "info", "path": "/health", field_name: run_id},
        }
        return _json(_search_answer(_SHARDS, [hit]))

    # ------------------------------------------------------------------ Kibana

    def _kibana(self, request: Request, path: str) -> Response | None:
        if request.headers.get("Authorization") != f"ApiKey {LOGS_API_KEY}":
            return _json(
                {"statusCode": 401, "error": "Unauthorized", "message": "[security_exception] unable to authenticate"},
                401,
            )
        if request.method != "GET":
            return None
        if path == "/api/saved_objects/_find":
            if request.args.get("type") != "search":
                return _json({"page": 1, "per_page": 20, "total": 0, "saved_objects": []})
            title = request.args.get("search", "").strip('"')
            objects = [
                _saved_search(oid, name, query)
                for oid, (name, query) in SAVED_SEARCHES.items()
                if title.casefold() in name.casefold()
            ]
            return _json({"page": 1, "per_page": 100, "total": len(objects), "saved_objects": objects})
        if path == f"/api/saved_objects/index-pattern/{_DATA_VIEW}":
            return _json(
                {
                    "id": _DATA_VIEW,
                    "type": "index-pattern",
                    "references": [],
                    "attributes": {"title": self.index_pattern, "timeFieldName": "@timestamp"},
                }
            )
        return None

    # ------------------------------------------------------------------ OTLP collector

    def _collector(self, request: Request, path: str) -> Response | None:
        if path != "/v1/traces" or request.method != "POST":
            return None
        presented = request.headers.get("Authorization")
        self.exports.append(presented)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("resourceSpans"), list):
            return _json({"code": 3, "message": "invalid ExportTraceServiceRequest"}, 400)
        if presented == f"Bearer {OTLP_TOKEN}" or (presented is None and not self.collector_requires_token):
            return _json({})
        return _json({"code": 16, "message": f"missing or invalid token ({presented})"}, 401)

    # ------------------------------------------------------------------ Grafana

    def _grafana(self, request: Request, path: str) -> Response | None:
        presented = request.headers.get("Authorization")
        if self.grafana_unauthorized or presented != f"Bearer {GRAFANA_TOKEN}":
            return _json(
                {
                    "message": f"Invalid API key: {presented}",
                    "messageId": "api-key.invalid",
                    "statusCode": 401,
                    "traceID": "",
                },
                401,
            )
        if path == "/api/search" and request.method == "GET":
            query = request.args.get("query", "").casefold()
            return _json([_grafana_hit(uid, title) for uid, title in DASHBOARDS.items() if query in title.casefold()])
        if path.startswith("/api/dashboards/uid/") and request.method == "GET":
            uid = path.rsplit("/", 1)[-1]
            if uid not in DASHBOARDS:
                return _json({"message": "Dashboard not found"}, 404)
            return _json(_grafana_dashboard(uid, DASHBOARDS[uid]))
        if path == "/api/annotations" and request.method == "POST":
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return _json({"message": "bad request data"}, 400)
            self.annotations.append(body)
            return _json({"message": "Annotation added", "id": len(self.annotations)})
        return None


# ---------------------------------------------------------------------- shapes


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _es_error(status: int, kind: str, reason: str) -> dict[str, Any]:
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def _search_answer(shards: dict[str, int], hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "took": 2,
        "timed_out": False,
        "_shards": shards,
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 0.0 if hits else None, "hits": hits},
    }


def _match_phrases(node: Any) -> list[tuple[str, Any]]:
    """Every ``{"match_phrase": {field: value}}`` inside a Query DSL tree, in order."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "match_phrase" and isinstance(value, dict):
                for name, phrase in value.items():
                    found.append((name, phrase.get("query") if isinstance(phrase, dict) else phrase))
            else:
                found.extend(_match_phrases(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_match_phrases(item))
    return found


def _saved_search(object_id: str, title: str, query: dict[str, str]) -> dict[str, Any]:
    source = {"query": query, "filter": [], "indexRefName": _INDEX_REF}
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
        "references": [{"name": _INDEX_REF, "type": "index-pattern", "id": _DATA_VIEW}],
        "updated_at": "2026-11-20T10:00:00.000Z",
        "version": "WzEsMV0=",
    }


def _grafana_hit(uid: str, title: str) -> dict[str, Any]:
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


def _grafana_dashboard(uid: str, title: str) -> dict[str, Any]:
    panel = {"id": 2, "type": "timeseries", "title": "p95", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}}
    return {
        "dashboard": {
            "id": 1,
            "uid": uid,
            "title": title,
            "schemaVersion": 39,
            "panels": [panel, {**panel, "id": 3, "title": "errors"}],
        },
        "meta": {"type": "db", "slug": uid, "folderTitle": "Wimmelwelt", "canSave": False},
    }
