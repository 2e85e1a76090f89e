"""Kibana probe: the saved searches a gate requires exist, with hit counts where possible (PD-5).

API followed: Kibana 8.x saved objects API, ``GET [/s/<space>]/api/saved_objects/_find
?type=search&search_fields=title&search=...`` and ``GET /api/saved_objects/index-pattern/<id>``
(deprecated since Kibana 8.7 in favour of export, still served), and the same paths of
OpenSearch Dashboards 2.x. The anti-CSRF header is ``kbn-xsrf`` (Kibana) or ``osd-xsrf``
(OpenSearch Dashboards); GET does not need it, it is sent anyway. Hit counts run on
Elasticsearch (`pytest_wimmelgate.probes.elasticsearch.count_documents`). Authentication: see
`pytest_wimmelgate.probes.elastic_stack`; no credential reaches a reason, note or evidence.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode

import requests

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import elasticsearch
from pytest_wimmelgate.probes.elastic_stack import Auth, ago, as_dict, connection, index_path, json_object
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, call, secrets_kept, shape_error

_XSRF_HEADERS = {"kibana": "kbn-xsrf", "opensearch": "osd-xsrf"}
_FIND_PAGE_SIZE = 100


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
    base, headers, secrets = connection(dashboards_url, auth)
    headers = {**headers, xsrf: "true"}
    prefix = f"{base}/s/{quote(space, safe='')}" if space else base
    es: tuple[str, dict[str, str]] | None = None
    if es_url:
        es_base, es_headers, es_secrets = connection(es_url, auth)
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
    data = json_object(answer, label, "saved_objects")
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
        filters.append({"range": {time_field: {"gte": ago(since_minutes)}}})
    body = {"query": {"bool": {"must": must, "filter": filters, "must_not": negated}}}
    label = f"saved search {title!r} count: POST {es_base}/{index_path(pattern)}/_count"
    try:
        count = elasticsearch.count_documents(
            session, es_base, pattern, body, headers=es_headers, timeout=timeout, label=label
        )
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
        meta = as_dict(item.get("meta"))
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
    attributes = as_dict(json_object(answer, label, "attributes").get("attributes"))
    title = attributes.get("title")
    if not isinstance(title, str) or not title:
        raise shape_error(answer, label, "a data view with attributes.title")
    time_field = attributes.get("timeFieldName")
    return title, time_field if isinstance(time_field, str) and time_field else None


def _with(search: SavedSearch, **changes: Any) -> SavedSearch:
    return replace(search, **changes)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
