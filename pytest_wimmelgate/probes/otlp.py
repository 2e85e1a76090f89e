"""OTLP/HTTP trace export probe: the collector accepts our token and refuses no token.

API version followed: OTLP specification 1.x (``opentelemetry-proto`` v1,
``opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest``), transport
OTLP/HTTP with the JSON encoding: ``POST <endpoint>/v1/traces`` with
``Content-Type: application/json``, lowerCamelCase field names, ``traceId``/``spanId``
as hex strings, enums as integers, 64-bit integers as decimal strings. A full success
is HTTP 200 with an ``ExportTraceServiceResponse`` (``{}`` or ``{"partialSuccess":
{"rejectedSpans": "<n>", "errorMessage": "..."}}``); a partial success is still
accepted but is reported.

The header format is that of ``OTEL_EXPORTER_OTLP_HEADERS`` (the OpenTelemetry SDK
environment variable specification): comma-separated ``key=value`` pairs in W3C
Baggage syntax without properties, values percent-decoded.

Header values never reach a reason or evidence (only header names do).
"""

from __future__ import annotations

import re
import secrets as random_source
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import requests

from pytest_wimmelgate.config.secrets import uri_secrets
from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import DEFAULT_TIMEOUT_S, HttpAnswer, call, json_body, secrets_kept, shape_error

TRACES_PATH = "v1/traces"
#: SpanKind enum of the OTLP proto: SPAN_KIND_INTERNAL.
_SPAN_KIND_INTERNAL = 1
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CREDENTIAL_WORDS = ("authorization", "token", "key", "secret", "password", "auth", "signature")
#: OTLP/HTTP success is 200; 201/202/204 are tolerated from proxies and vendors.
_ACCEPTED = (200, 201, 202, 204)


@dataclass(frozen=True)
class OtlpExport:
    """One accepted export with the token and the refused one without it."""

    url: str
    run_id: str
    trace_id: str
    status: int
    rejected_spans: int | None
    partial_message: str | None
    unauthenticated_status: int
    header_names: tuple[str, ...]
    credential_headers: tuple[str, ...]
    elapsed_ms: float

    @property
    def partial(self) -> bool:
        """The collector answered with ``partialSuccess`` (spans rejected, or a warning)."""
        return self.rejected_spans is not None or self.partial_message is not None

    def evidence(self) -> dict[str, Any]:
        partial = (
            {"rejected_spans": self.rejected_spans, "error_message": self.partial_message} if self.partial else None
        )
        return {
            "request": f"POST {self.url}",
            "run_id": self.run_id,
            "trace_id": self.trace_id,
            "status": self.status,
            "partial_success": partial,
            "without_credentials": {
                "removed_headers": list(self.credential_headers),
                "status": self.unauthenticated_status,
            },
            "header_names": list(self.header_names),
            "elapsed_ms": self.elapsed_ms,
        }


def parse_otlp_headers(text: str) -> dict[str, str]:
    """Parse ``OTEL_EXPORTER_OTLP_HEADERS``: ``"k=v,k2=v2"``, values percent-decoded.

    Whitespace around members, keys and values is dropped, empty members are skipped,
    and a later duplicate key wins. A member without ``=`` or with a key that is not an
    HTTP header name is ``configuration missing``; the message names the member by
    position only, never by its (possibly secret) value.
    """
    headers: dict[str, str] = {}
    for position, member in enumerate(text.split(","), start=1):
        if not member.strip():
            continue
        key, sep, value = member.partition("=")
        key = unquote(key).strip()
        if not sep or not _TOKEN_CHARS.match(key):
            raise ProbeError(
                Category.CONFIG,
                f"OTLP headers: member {position} is not key=value with an HTTP header name",
            )
        headers[key] = unquote(value).strip()
    return headers


def traces_url(endpoint: str) -> str:
    """``<endpoint>/v1/traces`` as the spec builds it from ``OTEL_EXPORTER_OTLP_ENDPOINT``.

    An endpoint that already ends in ``/v1/traces`` (a per-signal endpoint) is kept.
    """
    trimmed = endpoint.rstrip("/")
    if trimmed.endswith("/" + TRACES_PATH):
        return trimmed
    return f"{trimmed}/{TRACES_PATH}"


def check_export(
    endpoint: str,
    headers: Mapping[str, str] | str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    run_id: str | None = None,
    auth_header: str | None = None,
    service_name: str = "pytest-wimmelgate",
) -> OtlpExport:
    """Export one span with ``headers`` (must be accepted), then without credentials (401/403).

    Accepted means HTTP 200 (201/202/204 are tolerated); a ``partialSuccess`` in the
    answer is accepted too and reported in the result and its evidence.

    ``headers`` is a mapping or the raw ``OTEL_EXPORTER_OTLP_HEADERS`` text. The
    credential is ``auth_header`` if given, else every header whose name looks like a
    credential (``Authorization``, ``*token*``, ``*key*``, ``*secret*``, ...); none is
    ``configuration missing``. The span carries ``wimmelgate.run_id`` as resource and
    span attribute. A collector that accepts the export without credentials is a
    ``product defect``: "collector accepts exports without a token".
    """
    pairs = parse_otlp_headers(headers) if isinstance(headers, str) else dict(headers)
    url = traces_url(endpoint)
    run = run_id or uuid.uuid4().hex
    credential_names = _credential_names(pairs, auth_header)
    secret_values = [pairs[name] for name in credential_names]
    secret_values += [part for value in secret_values for part in value.split()[1:]]
    with secrets_kept([*secret_values, *uri_secrets(url)]):
        if not credential_names:
            wanted = f"header {auth_header!r}" if auth_header else "a credential header"
            raise ProbeError(
                Category.CONFIG,
                f"OTLP export to {url}: {wanted} missing from the OTLP headers"
                f" (names present: {', '.join(sorted(pairs)) or 'none'})",
                {"endpoint": url, "header_names": sorted(pairs)},
            )
        trace_id = random_source.token_hex(16)
        send = {**pairs, "Content-Type": "application/json", "Accept": "application/json"}
        with requests.Session() as session:
            label = f"OTLP export with credentials: POST {url}"
            answer = call(
                "POST",
                url,
                session=session,
                timeout=timeout,
                expect=_ACCEPTED,
                what=label,
                headers=send,
                json=_export_request(trace_id, run, service_name),
            )
            rejected, message = _partial_success(answer, label)
            stripped = {k: v for k, v in send.items() if k not in credential_names}
            label = f"OTLP export without credentials: POST {url}"
            refused = call(
                "POST",
                url,
                session=session,
                timeout=timeout,
                expect=None,
                what=label,
                headers=stripped,
                json=_export_request(trace_id, run, service_name),
            )
        result = OtlpExport(
            url=url,
            run_id=run,
            trace_id=trace_id,
            status=answer.status,
            rejected_spans=rejected,
            partial_message=message,
            unauthenticated_status=refused.status,
            header_names=tuple(sorted(pairs)),
            credential_headers=tuple(credential_names),
            elapsed_ms=round(answer.elapsed_s * 1000, 1),
        )
        _judge_refusal(refused, label, result)
        return result


def _judge_refusal(refused: HttpAnswer, label: str, result: OtlpExport) -> None:
    if refused.status in (401, 403):
        return
    evidence = {**result.evidence(), "answer_without_credentials": refused.evidence()}
    if 200 <= refused.status < 300:
        raise ProbeError(
            Category.PRODUCT,
            f"collector accepts exports without a token: {label} gave HTTP {refused.status}",
            evidence,
        )
    if refused.status >= 500:
        raise ProbeError(Category.INFRASTRUCTURE, f"{label}: server error HTTP {refused.status}", evidence)
    raise ProbeError(
        Category.PRODUCT,
        f"{label}: HTTP {refused.status}, expected 401/403 (credentials required)",
        evidence,
    )


def _credential_names(pairs: Mapping[str, str], auth_header: str | None) -> list[str]:
    if auth_header:
        return [name for name in pairs if name.lower() == auth_header.lower()]
    return [name for name in pairs if any(word in name.lower() for word in _CREDENTIAL_WORDS)]


def _export_request(trace_id: str, run_id: str, service_name: str) -> dict[str, Any]:
    """A minimal valid ``ExportTraceServiceRequest`` in the OTLP/JSON encoding."""
    end = time.time_ns()
    run_attribute = {"key": "wimmelgate.run_id", "value": {"stringValue": run_id}}
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": service_name}},
                        run_attribute,
                    ]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "pytest-wimmelgate"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": random_source.token_hex(8),
                                "name": "wimmelgate otlp export check",
                                "kind": _SPAN_KIND_INTERNAL,
                                "startTimeUnixNano": str(end - 1_000_000),
                                "endTimeUnixNano": str(end),
                                "attributes": [run_attribute],
                            }
                        ],
                    }
                ],
            }
        ]
    }


def _partial_success(answer: HttpAnswer, label: str) -> tuple[int | None, str | None]:
    """``(rejectedSpans, errorMessage)`` of an ``ExportTraceServiceResponse``; None if absent."""
    if not answer.body.strip():
        return None, None  # some collectors send 200 with an empty body
    data = json_body(answer, label)
    if not isinstance(data, dict):
        raise shape_error(answer, label, "an ExportTraceServiceResponse object")
    partial = data.get("partialSuccess", data.get("partial_success"))
    if partial is None or partial == {}:
        return None, None  # an empty partialSuccess is a full success
    if not isinstance(partial, dict):
        raise shape_error(answer, label, "an ExportTraceServiceResponse (partialSuccess)")
    raw: Any = partial.get("rejectedSpans", partial.get("rejected_spans", 0))
    try:
        rejected = int(raw)
    except (TypeError, ValueError):
        raise shape_error(answer, label, "a partialSuccess with numeric rejectedSpans") from None
    message = partial.get("errorMessage", partial.get("error_message"))
    return rejected, str(message) if message else None
