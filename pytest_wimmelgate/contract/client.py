"""Executing contract steps over HTTP: render, send (`probes.http.call`), check, capture.

`ContractClient.run` sends one step and returns its answer and captures. An answer the
contract did not describe (a status outside ``expect``, a capture that finds nothing) is
a `ContractMismatch`, ``[contract mismatch]``, naming the request, the expected and the
actual answer; a 5xx or no answer at all is ``[infrastructure unreachable]``; 401/403 is
``[configuration missing]`` (credentials or app id rejected). Captured secrets and every
value an answer marks as secret join the run's `SecretSet` before anything is recorded.
`Flow` carries captured values from one step to the next.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_wimmelgate.config.secrets import MASK, SecretSet
from pytest_wimmelgate.config.sections.targets import SmokeAccount
from pytest_wimmelgate.contract.model import BackendSettings, Capture, Step
from pytest_wimmelgate.contract.templates import MissingValue
from pytest_wimmelgate.contract.transcript import (
    Exchange,
    Transcript,
    json_preview,
    learn_secrets,
    now_iso,
    preview,
    shown_headers,
)
from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError

if TYPE_CHECKING:  # requests (and the probe built on it) load when a check first sends: plain runs import neither
    import requests

    from pytest_wimmelgate.probes.http import HttpAnswer


def _http_session() -> requests.Session:
    import requests

    return requests.Session()


USE_STEP = (-1,)  # `expect` default: the statuses the step declares
BINARY_VALUES = ("upload.bytes",)


class ContractMismatch(CheckFailed):
    """The backend answered, but not as the contract describes."""

    def __init__(self, reason: str, evidence: dict[str, Any] | None = None) -> None:
        super().__init__(Category.CONTRACT, reason, evidence)


@dataclass(frozen=True)
class StepResult:
    """A step's answer and the values it captured."""

    step: Step
    answer: HttpAnswer
    captures: dict[str, Any]
    exchange: Exchange

    @property
    def status(self) -> int:
        return self.answer.status

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return self.answer.json()
        except ProbeError:
            return None


@dataclass
class ContractClient:
    """Sends the contract's steps to one backend; every request carries the common headers."""

    settings: BackendSettings
    run_id: str
    secrets: SecretSet
    account: SmokeAccount | None = None
    transcript: Transcript = field(default_factory=Transcript)
    http: requests.Session = field(default_factory=_http_session)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def for_check(self, transcript: Transcript) -> ContractClient:
        """The same client recording into another transcript (one per check)."""
        return ContractClient(
            self.settings, self.run_id, self.secrets, self.account, transcript, self.http, self._counter
        )

    def run_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"run.id": self.run_id}
        if self.account is not None:
            values.update({"account.username": self.account.username, "account.password": self.account.password})
        return values

    def health(self) -> StepResult:
        """Send the health request (also a canary carrying this run's id, SG-8)."""
        return self.run(self.settings.health.request)

    def has(self, step: str) -> bool:
        return self.settings.contract.has(step)

    def flow(self, values: Mapping[str, Any] | None = None) -> Flow:
        return Flow(self, {**self.run_values(), **dict(values or {})})

    def run(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        expect: tuple[int, ...] | None = USE_STEP,
        with_session: bool = True,
        require_captures: bool = True,
    ) -> StepResult:
        """Send step ``name``; ``expect=None`` accepts any status (the caller judges it)."""
        step = self.settings.contract.step(name)
        wanted = step.expect if expect == USE_STEP else expect
        merged = {**self.run_values(), **dict(values or {}), "run.fresh": f"{self.run_id}-{next(self._counter)}"}
        request = self._render(step, merged, with_session=with_session)
        exchange = Exchange(
            step=name,
            request=f"{step.method} {request.url}",
            request_headers=shown_headers(request.headers, self.secrets),
            request_body=self.secrets.redact(request.preview) if request.preview else request.preview,
            expected=list(wanted) if wanted is not None else None,
            at=now_iso(),
        )
        from pytest_wimmelgate.probes.http import call

        started = time.monotonic()
        try:
            answer = call(
                step.method,
                request.url,
                session=self.http,
                timeout=self.settings.timeout_s,
                expect=None,
                what=_label(step, request.url),
                headers=request.headers,
                params=request.query or None,
                **request.body,
            )
        except ProbeError as error:
            exchange.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
            exchange.problem = error.reason
            self.transcript.add(exchange)
            raise ProbeError(error.category, error.reason, exchange.to_json()) from None
        body = _json_or_none(answer)
        learn_secrets(self.secrets, answer.headers, body)
        self._learn_captured_secrets(step, answer, body)
        exchange.status = answer.status
        exchange.elapsed_ms = round(answer.elapsed_s * 1000, 1)
        exchange.answer_headers = shown_headers(_interesting(answer.headers), self.secrets)
        exchange.answer_body = self._shown_body(answer)
        self.transcript.add(exchange)
        if wanted is not None and answer.status not in wanted:
            raise _status_error(step, request.url, answer, wanted, exchange)
        captures = self._capture(step, answer, body, exchange, required=require_captures)
        return StepResult(step, answer, captures, exchange)

    def _render(self, step: Step, values: Mapping[str, Any], *, with_session: bool) -> _Request:
        try:
            path = step.path.render_path(values)
            url = path if urlsplit(path).scheme in ("http", "https") else self.settings.base_url + path
            same_origin = _origin(url) == _origin(self.settings.base_url)
            headers: dict[str, str] = {}
            if same_origin:
                headers.update({k: t.render_text(values) for k, t in self.settings.contract.headers.items()})
                if step.session and with_session:
                    headers.update(
                        {k: t.render_text(values) for k, t in self.settings.contract.session_headers.items()}
                    )
            headers.update({k: t.render_text(values) for k, t in step.headers.items()})
            url = _userinfo_as_header(url, headers)
            query = {k: t.render_text(values) for k, t in step.query.items()}
            body, shown = _body(step, values)
        except MissingValue as missing:
            raise ContractMismatch(
                f"{step.label()}: needs {missing.name!r}, which no earlier step captured in this check"
            ) from None
        return _Request(url=url, headers=headers, query=query, body=body, preview=shown)

    def _capture(
        self, step: Step, answer: HttpAnswer, body: Any, exchange: Exchange, *, required: bool
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for capture in step.captures:
            value = _capture_value(capture, answer, body)
            if value is None or value == "":
                if capture.required and required:
                    raise ContractMismatch(
                        f"{_label(step, answer.url)}: capture {capture.name!r} ({capture.describe()}) found nothing "
                        f"in the HTTP {answer.status} answer: {_excerpt(answer)}",
                        exchange.to_json(),
                    )
                continue
            if capture.secret or capture.name in self.session_names():
                self.secrets.add(*_texts(value))
                exchange.captures[capture.name] = MASK
            else:
                exchange.captures[capture.name] = value if isinstance(value, (str, int, float)) else json_preview(value)
            found[capture.name] = value
        return found

    def _learn_captured_secrets(self, step: Step, answer: HttpAnswer, body: Any) -> None:
        """Secret captures join the secret set before anything of the answer is recorded."""
        for capture in step.captures:
            if capture.secret or capture.name in self.session_names():
                value = _capture_value(capture, answer, body)
                if value not in (None, ""):
                    self.secrets.add(*_texts(value))

    def _shown_body(self, answer: HttpAnswer) -> str | None:
        content_type = next((v for k, v in answer.headers.items() if k.lower() == "content-type"), "")
        textual = not content_type or any(t in content_type for t in ("json", "text/", "xml", "javascript"))
        shown = preview(answer.body, binary=not textual)
        return self.secrets.redact(shown) if shown else shown

    def session_names(self) -> set[str]:
        """Captured names the session headers carry: tokens, secret by definition."""
        return {n for t in self.settings.contract.session_headers.values() for n in t.names}


@dataclass
class Flow:
    """Steps of one check in order; each step sees what the earlier ones captured."""

    client: ContractClient
    values: dict[str, Any]

    def run(self, name: str, *, expect: tuple[int, ...] | None = USE_STEP, **options: Any) -> StepResult:
        extra = options.pop("values", None) or {}
        result = self.client.run(name, {**self.values, **extra}, expect=expect, **options)
        self.values.update(result.captures)
        return result


@dataclass(frozen=True)
class _Request:
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]
    preview: str | None


def _body(step: Step, values: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    body = step.body
    if body.kind == "json" and body.json is not None:
        tree = body.json.render(values)
        return {"json": tree}, json_preview(tree)
    if body.kind == "raw" and body.raw is not None:
        rendered = body.raw.render(values)
        data = rendered if isinstance(rendered, bytes) else str(rendered).encode("utf-8")
        binary = any(name in BINARY_VALUES for name in body.raw.names)
        return {"data": data}, preview(data, binary=binary)
    if body.kind == "multipart":
        files: dict[str, Any] = {}
        for name, part in body.files.items():
            content = part.content.render(values)
            data = content if isinstance(content, bytes) else str(content).encode("utf-8")
            filename = part.filename.render_text(values) if part.filename else name
            content_type = part.content_type.render_text(values) if part.content_type else "application/octet-stream"
            files[name] = (filename, data, content_type)
        for name, template in body.fields.items():
            files[name] = (None, template.render_text(values))
        shown = {n: f"<file {f[0]}, {len(f[1])} bytes>" if f[0] else f[1] for n, f in files.items()}
        return {"files": files}, json_preview(shown)
    return {}, None


def _capture_value(capture: Capture, answer: HttpAnswer, body: Any) -> Any:
    if capture.source == "header":
        wanted = capture.expression.lower()
        return next((v for k, v in answer.headers.items() if k.lower() == wanted), None)
    if body is None:
        return None
    return capture.compiled.search(body)


def _status_error(step: Step, url: str, answer: HttpAnswer, wanted: tuple[int, ...], exchange: Exchange) -> CheckFailed:
    expected = "/".join(map(str, wanted))
    label = _label(step, url)
    if answer.status >= 500:
        return ProbeError(
            Category.INFRASTRUCTURE,
            f"{label}: server error HTTP {answer.status} (expected {expected}): {_excerpt(answer)}",
            exchange.to_json(),
        )
    if answer.status in (401, 403):
        return ProbeError(
            Category.CONFIG,
            f"{label}: credentials rejected, HTTP {answer.status} (expected {expected}): {_excerpt(answer)}",
            exchange.to_json(),
        )
    return ContractMismatch(
        f"{label}: expected HTTP {expected}, got {answer.status}: {_excerpt(answer)}", exchange.to_json()
    )


def _label(step: Step, url: str) -> str:
    return f"{step.method} {url} ({step.name})"


def _excerpt(answer: HttpAnswer, limit: int = 200) -> str:
    text = answer.body[:limit].decode("utf-8", "replace").strip() if answer.body else ""
    return text or "(empty body)"


def _json_or_none(answer: HttpAnswer) -> Any:
    if not answer.body:
        return None
    try:
        return answer.json()
    except ProbeError:
        return None


def _interesting(headers: Mapping[str, str]) -> dict[str, str]:
    skip = {"date", "server", "connection", "keep-alive", "transfer-encoding"}
    return {k: v for k, v in headers.items() if k.lower() not in skip}


def _texts(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _userinfo_as_header(url: str, headers: dict[str, str]) -> str:
    """The URL without ``user:pass@``; the credentials go as Basic auth unless the contract
    sends its own ``Authorization`` (requests would otherwise replace the contract's header)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    import base64
    from urllib.parse import unquote, urlunsplit

    userinfo, _, host = parts.netloc.rpartition("@")
    if not any(name.lower() == "authorization" for name in headers):
        user, _, password = userinfo.partition(":")
        pair = f"{unquote(user)}:{unquote(password)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return urlunsplit(parts._replace(netloc=host))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.rpartition("@")[2].lower()
