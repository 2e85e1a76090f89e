"""Elasticsearch probe: recent log volume and this run's marker line (SG-8).

API followed: Elasticsearch REST API 8.x, ``POST /<target>/_count`` and ``POST
/<target>/_search`` with a Query DSL body (the same requests work on Elasticsearch 7.x and
OpenSearch 2.x; ``hits.total`` is read both as ``{"value": n}`` and as a plain number).
Authentication: see `pytest_wimmelgate.probes.elastic_stack`. No credential ever reaches
a reason or evidence: they are replaced by ``***``.

A failed request keeps the categories of :func:`pytest_wimmelgate.probes.http.call`;
an answer that is JSON but not of the documented shape is ``infrastructure
unreachable`` too (the backend answered, but not as the API it claims to be).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.elastic_stack import Auth, ago, as_dict, connection, index_path, json_object
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call, secrets_kept, shape_error

__all__ = ["Auth", "LogCount", "RunMarker", "count_documents", "count_recent", "find_run_marker"]


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
    base, headers, secrets = connection(url, auth)
    with secrets_kept(secrets), requests.Session() as session:
        target = f"{base}/{index_path(index_pattern)}/_count"
        body = {"query": {"range": {time_field: {"gte": ago(since_minutes)}}}}
        answer = call(
            "POST",
            target,
            session=session,
            timeout=timeout,
            headers=headers,
            json=body,
            what=f"log count: POST {target}",
        )
        data = json_object(answer, f"log count: POST {target}", "count")
        count = data.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise shape_error(answer, f"log count: POST {target}", "a count answer with 'count'")
        shards = as_dict(data.get("_shards"))
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
    base, headers, secrets = connection(url, auth)
    target = f"{base}/{index_path(index_pattern)}/_search"
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
                source = as_dict(hit.get("_source"))
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


def count_documents(
    session: requests.Session,
    base: str,
    pattern: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str],
    timeout: float,
    label: str,
) -> int:
    """``POST <base>/<pattern>/_count`` with ``body``; the count (a ProbeError otherwise)."""
    target = f"{base}/{index_path(pattern)}/_count"
    answer = call("POST", target, session=session, timeout=timeout, headers=headers, json=body, what=label)
    found = json_object(answer, label, "count").get("count")
    if not isinstance(found, int) or isinstance(found, bool):
        raise shape_error(answer, label, "a count answer with 'count'")
    return found


def _first_hit(answer: HttpAnswer, label: str) -> dict[str, Any] | None:
    data = json_object(answer, label, "hits")
    hits = data.get("hits")
    inner = hits.get("hits") if isinstance(hits, dict) else None
    if not isinstance(inner, list):
        raise shape_error(answer, label, "a search answer with 'hits.hits'")
    for hit in inner:
        if isinstance(hit, dict):
            return hit
    return None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
