"""Log backend probe: recent log volume, this run's marker line, saved searches.

API versions followed:

* Elasticsearch REST API 8.x: ``POST /<target>/_count`` and ``POST /<target>/_search``
  with a Query DSL body (the same requests work on Elasticsearch 7.x and OpenSearch 2.x;
  ``hits.total`` is read both as ``{"value": n}`` and as a plain number).
* Kibana 8.x saved objects API: ``GET [/s/<space>]/api/saved_objects/_find?type=search
  &search_fields=title&search=...`` and ``GET /api/saved_objects/index-pattern/<id>``
  (deprecated since Kibana 8.7 in favour of export, still served), and the same paths of
  OpenSearch Dashboards 2.x. The anti-CSRF header is ``kbn-xsrf`` (Kibana) or
  ``osd-xsrf`` (OpenSearch Dashboards); GET does not need it, it is sent anyway.

Authentication is an API key (``Authorization: ApiKey <base64 id:key>``), HTTP basic
(``(user, password)``), credentials inside the URL (moved into basic auth), or none.
No credential ever reaches a reason or evidence: they are replaced by ``***``.

A failed request keeps the categories of :func:`pytest_wimmelgate.probes.http.call`;
an answer that is JSON but not of the documented shape is ``infrastructure
unreachable`` too (the backend answered, but not as the API it claims to be).
"""

from __future__ import annotations

import base64
import json
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import requests

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call, json_body, secrets_kept, shape_error

#: An API key (``"<base64 id:key>"``, optionally prefixed ``"ApiKey "``), a
#: ``(user, password)`` pair for basic auth, or ``None``.
Auth = str | tuple[str, str] | None

_XSRF_HEADERS = {"kibana": "kbn-xsrf", "opensearch": "osd-xsrf"}
_FIND_PAGE_SIZE = 100


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LogCount:
    """How many log documents the backend holds for a window."""

    request: str
    index_pattern: str
    since_minutes: float
    count: int
    shards_total: int | None
    shards_failed: int | None
    elapsed_ms: float

    def evidence(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "index_pattern": self.index_pattern,
            "window": f"last {self.since_minutes:g} min",
            "count": self.count,
            "shards_total": self.shards_total,
            "shards_failed": self.shards_failed,
            "elapsed_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class RunMarker:
    """The first log document found that carries this run's id."""

    request: str
    index_pattern: str
    field: str
    run_id: str
    index: str
    doc_id: str
    timestamp: str | None
    attempts: int
    waited_s: float

    def evidence(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "index_pattern": self.index_pattern,
            "query": {self.field: self.run_id},
            "found": {"_index": self.index, "_id": self.doc_id, "@timestamp": self.timestamp},
            "attempts": self.attempts,
            "waited_s": round(self.waited_s, 2),
        }


@dataclass(frozen=True)
class SavedSearch:
    """One required saved search: found or not and, when it could be run, its hits."""

    title: str
    found: bool
    id: str | None = None
    index_pattern: str | None = None
    query: str | None = None
    language: str | None = None
    hits: int | None = None
    note: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "found": self.found,
            "id": self.id,
            "index_pattern": self.index_pattern,
            "query": self.query,
            "language": self.language,
            "hits": self.hits,
            "note": self.note,
        }


@dataclass(frozen=True)
class SavedSearches:
    """The saved searches a gate requires, as the dashboards app knows them."""

    dashboards_url: str
    api: str
    searches: tuple[SavedSearch, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(search.title for search in self.searches if not search.found)

    def evidence(self) -> dict[str, Any]:
        return {
            "dashboards_url": self.dashboards_url,
            "api": self.api,
            "searches": [search.evidence() for search in self.searches],
            "missing": list(self.missing),
        }


# --------------------------------------------------------------------------- probes


def count_recent(
    url: str,
    index_pattern: str,
    *,
    since_minutes: float = 15,
    auth: Auth = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    minimum: int = 1,
    time_field: str = "@timestamp",
) -> LogCount:
    """Count documents of ``index_pattern`` whose ``time_field`` lies in the last minutes.

    ``POST /<pattern>/_count`` with ``{"query": {"range": {"@timestamp": {"gte":
    "now-15m"}}}}``. Fewer than ``minimum`` documents (default 1), or no index matching
    the pattern at all, is ``no data``: silence is never a pass.
    """
    base, headers, secrets = _connection(url, auth)
    with secrets_kept(secrets), requests.Session() as session:
        target = f"{base}/{_index_path(index_pattern)}/_count"
        body = {"query": {"range": {time_field: {"gte": _ago(since_minutes)}}}}
        answer = call(
            "POST",
            target,
            session=session,
            timeout=timeout,
            headers=headers,
            json=body,
            what=f"log count: POST {target}",
        )
        data = _json_object(answer, f"log count: POST {target}", "count")
        count = data.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise shape_error(answer, f"log count: POST {target}", "a count answer with 'count'")
        shards = _dict(data.get("_shards"))
        result = LogCount(
            request=f"POST {target}",
            index_pattern=index_pattern,
            since_minutes=since_minutes,
            count=count,
            shards_total=_int_or_none(shards.get("total")),
            shards_failed=_int_or_none(shards.get("failed")),
            elapsed_ms=round(answer.elapsed_s * 1000, 1),
        )
        window = f"in the last {since_minutes:g} min"
        if result.shards_total == 0:
            raise ProbeError(
                Category.NO_DATA,
                f"no index matches {index_pattern} at {base} (count {window}: 0 shards)",
                result.evidence(),
            )
        if count < minimum:
            raise ProbeError(
                Category.NO_DATA,
                f"{count} log lines in {index_pattern} {window} at {base}, expected at least {minimum}",
                result.evidence(),
            )
        return result


def find_run_marker(
    url: str,
    index_pattern: str,
    run_id: str,
    *,
    field: str = "run_id",
    within_s: float = 30.0,
    poll_s: float = 2.0,
    auth: Auth = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> RunMarker:
    """Poll ``POST /<pattern>/_search`` until a document whose ``field`` is ``run_id`` shows up.

    The query is ``match_phrase`` on ``field`` (exact for keyword fields, phrase for text
    fields). A new document becomes searchable after the index refresh (1 s by default),
    so the probe polls every ``poll_s`` seconds until ``within_s`` have passed; nothing
    found is ``no data``. A failing request ends the polling at once with its category.
    """
    base, headers, secrets = _connection(url, auth)
    target = f"{base}/{_index_path(index_pattern)}/_search"
    label = f"log search: POST {target}"
    body = {"size": 1, "query": {"bool": {"filter": [{"match_phrase": {field: run_id}}]}}}
    started = time.monotonic()
    deadline = started + within_s
    attempts = 0
    with secrets_kept(secrets), requests.Session() as session:
        while True:
            attempts += 1
            answer = call(
                "POST",
                target,
                session=session,
                timeout=timeout,
                headers=headers,
                json=body,
                what=label,
            )
            hit = _first_hit(answer, label)
            if hit is not None:
                source = _dict(hit.get("_source"))
                stamp = source.get("@timestamp")
                return RunMarker(
                    request=f"POST {target}",
                    index_pattern=index_pattern,
                    field=field,
                    run_id=run_id,
                    index=str(hit.get("_index", "")),
                    doc_id=str(hit.get("_id", "")),
                    timestamp=str(stamp) if stamp is not None else None,
                    attempts=attempts,
                    waited_s=time.monotonic() - started,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(poll_s, remaining))
        raise ProbeError(
            Category.NO_DATA,
            f"no log line with run id {run_id} in {index_pattern} within {within_s:g} s"
            f" ({attempts} searches of {field} at {base})",
            {
                "request": f"POST {target}",
                "query": body,
                "attempts": attempts,
                "waited_s": round(time.monotonic() - started, 2),
            },
        )


def saved_searches(
    dashboards_url: str,
    titles: Sequence[str],
    *,
    auth: Auth = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    api: Literal["kibana", "opensearch"] = "kibana",
    es_url: str | None = None,
    space: str | None = None,
    since_minutes: float = 60,
) -> SavedSearches:
    """Check that each saved search in ``titles`` exists and, when possible, count its hits.

    Titles are looked up with the saved objects ``_find`` API (``type=search``, a phrase
    search on ``title``) and compared exactly after Unicode normalisation (NFKC, case
    folded, whitespace collapsed). For a found search with ``es_url`` given, its stored
    query runs as ``POST <es_url>/<index pattern>/_count`` over the last
    ``since_minutes`` on the data view's time field: Lucene queries become
    ``query_string``, enabled filters are applied. KQL/DQL cannot be translated without
    Kibana, so such a search keeps ``hits=None`` and a note saying so; so does any search
    whose count failed (counting is informative, not part of the verdict).

    Any title not found is a ``product defect`` naming the missing titles.
    """
    xsrf = _XSRF_HEADERS.get(api)
    if xsrf is None:
        raise ProbeError(
            Category.CONFIG,
            f"saved searches: api must be 'kibana' or 'opensearch', not {api!r}",
        )
    base, headers, secrets = _connection(dashboards_url, auth)
    headers = {**headers, xsrf: "true"}
    prefix = f"{base}/s/{quote(space, safe='')}" if space else base
    es: tuple[str, dict[str, str]] | None = None
    if es_url:
        es_base, es_headers, es_secrets = _connection(es_url, auth)
        es, secrets = (es_base, es_headers), secrets + es_secrets
    with secrets_kept(secrets), requests.Session() as session:
        results = []
        for title in titles:
            found = _find_saved_search(session, prefix, title, headers, timeout)
            if found is None:
                results.append(SavedSearch(title=title, found=False))
                continue
            search = _describe_saved_search(
                session,
                prefix,
                title,
                found,
                headers=headers,
                timeout=timeout,
                es=es,
                since_minutes=since_minutes,
            )
            # a note may quote a failed request: keep credentials out of it
            note = SecretSet.of(secrets).redact(search.note) if search.note else None
            results.append(_with(search, note=note))
        result = SavedSearches(dashboards_url=base, api=api, searches=tuple(results))
        if result.missing:
            names = ", ".join(repr(title) for title in result.missing)
            raise ProbeError(
                Category.PRODUCT,
                f"saved searches missing in {api} at {base}: {names}",
                result.evidence(),
            )
        return result


# --------------------------------------------------------------------------- saved searches


def _find_saved_search(
    session: requests.Session,
    prefix: str,
    title: str,
    headers: Mapping[str, str],
    timeout: float,
) -> dict[str, Any] | None:
    phrase = '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    query = urlencode(
        {
            "type": "search",
            "search_fields": "title",
            "search": phrase,
            "per_page": _FIND_PAGE_SIZE,
        }
    )
    target = f"{prefix}/api/saved_objects/_find?{query}"
    label = f"saved search {title!r}: GET {target}"
    answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
    data = _json_object(answer, label, "saved_objects")
    objects = data.get("saved_objects")
    if not isinstance(objects, list):
        raise shape_error(answer, label, "a _find answer with a 'saved_objects' list")
    wanted = _normal(title)
    for item in objects:
        attributes = item.get("attributes") if isinstance(item, dict) else None
        if not isinstance(attributes, dict):
            raise shape_error(answer, label, "saved objects with 'attributes'")
        found_title = attributes.get("title")
        if isinstance(found_title, str) and _normal(found_title) == wanted:
            return dict(item)
    return None


def _describe_saved_search(
    session: requests.Session,
    prefix: str,
    title: str,
    item: Mapping[str, Any],
    *,
    headers: Mapping[str, str],
    timeout: float,
    es: tuple[str, dict[str, str]] | None,
    since_minutes: float,
) -> SavedSearch:
    found = SavedSearch(title=title, found=True, id=str(item.get("id", "")) or None)
    source = _search_source(item)
    if source is None:
        return _with(found, note="hit count not computed: searchSourceJSON is missing or not JSON")
    query, language = _stored_query(source)
    found = _with(found, query=query if isinstance(query, str) else json.dumps(query), language=language)
    pattern_id = _index_pattern_id(item, source)
    if pattern_id is None:
        return _with(found, note="hit count not computed: the search names no data view")
    try:
        pattern, time_field = _index_pattern(session, prefix, pattern_id, headers, timeout)
    except ProbeError as exc:
        return _with(found, note=f"hit count not computed: data view lookup failed: {exc}")
    found = _with(found, index_pattern=pattern)
    if es is None:
        return _with(found, note="hit count not computed: no Elasticsearch URL given")
    es_base, es_headers = es
    dsl = _query_dsl(query, language)
    if dsl is None:
        return _with(
            found,
            note=f"hit count not computed: a {language} query needs Kibana to translate it;"
            " only Lucene queries and stored DSL run as _count",
        )
    must: list[Any] = [dsl]
    filters, negated = _stored_filters(source)
    if time_field:
        filters.append({"range": {time_field: {"gte": _ago(since_minutes)}}})
    body = {"query": {"bool": {"must": must, "filter": filters, "must_not": negated}}}
    target = f"{es_base}/{_index_path(pattern)}/_count"
    label = f"saved search {title!r} count: POST {target}"
    try:
        answer = call(
            "POST",
            target,
            session=session,
            timeout=timeout,
            headers=es_headers,
            json=body,
            what=label,
        )
        count = _json_object(answer, label, "count").get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise shape_error(answer, label, "a count answer with 'count'")
    except ProbeError as exc:
        return _with(found, note=f"hit count not computed: {exc}")
    window = f"last {since_minutes:g} min" if time_field else "all time (no time field)"
    return _with(found, hits=count, note=f"hits over {window}")


def _search_source(item: Mapping[str, Any]) -> dict[str, Any] | None:
    attributes = item.get("attributes")
    meta = attributes.get("kibanaSavedObjectMeta") if isinstance(attributes, dict) else None
    raw = meta.get("searchSourceJSON") if isinstance(meta, dict) else None
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _stored_query(source: Mapping[str, Any]) -> tuple[Any, str]:
    query = source.get("query")
    if isinstance(query, dict) and "language" in query:
        return query.get("query", ""), str(query.get("language") or "kuery")
    if isinstance(query, dict):  # very old searches stored Query DSL directly
        return query, "dsl"
    return "", "kuery"


def _query_dsl(query: Any, language: str) -> dict[str, Any] | None:
    if isinstance(query, dict):
        return query
    text = str(query or "").strip()
    if not text:
        return {"match_all": {}}
    if language == "lucene":
        return {"query_string": {"query": text, "analyze_wildcard": True}}
    return None


def _stored_filters(source: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """Enabled filters as Query DSL: ``(filters, negated filters)``."""
    keep: list[Any] = []
    negated: list[Any] = []
    for item in source.get("filter") or []:
        if not isinstance(item, dict):
            continue
        meta = _dict(item.get("meta"))
        if meta.get("disabled"):
            continue
        if isinstance(item.get("query"), dict):
            dsl = item["query"]
        else:  # older format: the DSL clause sits next to "meta"
            rest = {k: v for k, v in item.items() if k not in ("meta", "$state")}
            if len(rest) != 1:
                continue
            dsl = rest
        (negated if meta.get("negate") else keep).append(dsl)
    return keep, negated


def _index_pattern_id(item: Mapping[str, Any], source: Mapping[str, Any]) -> str | None:
    ref_name = source.get("indexRefName")
    for ref in item.get("references") or []:
        if not isinstance(ref, dict) or ref.get("type") != "index-pattern":
            continue
        if ref_name is None or ref.get("name") == ref_name:
            return str(ref.get("id"))
    index = source.get("index")
    return index if isinstance(index, str) else None


def _index_pattern(
    session: requests.Session,
    prefix: str,
    pattern_id: str,
    headers: Mapping[str, str],
    timeout: float,
) -> tuple[str, str | None]:
    target = f"{prefix}/api/saved_objects/index-pattern/{quote(pattern_id, safe='')}"
    label = f"data view: GET {target}"
    answer = call("GET", target, session=session, timeout=timeout, headers=headers, what=label)
    attributes = _dict(_json_object(answer, label, "attributes").get("attributes"))
    title = attributes.get("title")
    if not isinstance(title, str) or not title:
        raise shape_error(answer, label, "a data view with attributes.title")
    time_field = attributes.get("timeFieldName")
    return title, time_field if isinstance(time_field, str) and time_field else None


def _with(search: SavedSearch, **changes: Any) -> SavedSearch:
    return replace(search, **changes)


# --------------------------------------------------------------------------- helpers


def _first_hit(answer: HttpAnswer, label: str) -> dict[str, Any] | None:
    data = _json_object(answer, label, "hits")
    hits = data.get("hits")
    inner = hits.get("hits") if isinstance(hits, dict) else None
    if not isinstance(inner, list):
        raise shape_error(answer, label, "a search answer with 'hits.hits'")
    for hit in inner:
        if isinstance(hit, dict):
            return hit
    return None


def _connection(url: str, auth: Auth) -> tuple[str, dict[str, str], list[str]]:
    """``(base URL without credentials, auth headers, secret strings to scrub)``."""
    parts = urlsplit(url.rstrip("/"))
    secrets: list[str] = []
    if parts.username is not None or parts.password is not None:
        user, password = parts.username or "", parts.password or ""
        secrets += [s for s in (parts.password, f"{user}:{password}") if s]
        if auth is None:
            auth = (user, password)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    base = urlunsplit(parts)
    headers: dict[str, str] = {"Accept": "application/json"}
    if isinstance(auth, str):
        key = auth[len("ApiKey ") :] if auth.startswith("ApiKey ") else auth
        headers["Authorization"] = f"ApiKey {key}"
        secrets.append(key)
    elif auth is not None:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        secrets += [password, token]
    return base, headers, secrets


def _index_path(pattern: str) -> str:
    return quote(pattern, safe="*,-_.+:")


def _ago(minutes: float) -> str:
    """Elasticsearch date math for "``minutes`` ago" (whole units only: ``now-90s``)."""
    if float(minutes).is_integer():
        return f"now-{int(minutes)}m"
    return f"now-{round(minutes * 60)}s"


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _json_object(answer: HttpAnswer, label: str, key: str) -> dict[str, Any]:
    data = json_body(answer, label)
    if not isinstance(data, dict):
        raise shape_error(answer, label, f"a JSON object with {key!r}")
    return data
