"""The backend's HTTP core shared by every API dialect: requests, answers, routes, dispatch.

`App` matches a request against the active dialect's routes plus the routes every dialect
has (``/metrics``, ``/_sandbox/ready``, ``/_sandbox/stats``), lets the dialect admit it
(e.g. an application-id header), applies the latency and error-rate fault switches and
the session check, calls the handler and turns failures into the dialect's error answers.
Every request is counted in the metrics under its route template and logged as one JSON
line. The service logic is in `service`, the API shapes in `dialects`; no HTTP server here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pytest_wimmelgate.sandbox.service.service import (
    TRAFFIC_USER,
    InjectedFault,
    Service,
    traffic_password,
)
from pytest_wimmelgate.sandbox.service.storage import StorageUnavailable

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.backend_settings import BackendSettings
    from pytest_wimmelgate.sandbox.service.database import Database
    from pytest_wimmelgate.sandbox.service.instruments import Metrics
    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog
    from pytest_wimmelgate.sandbox.service.push import PushDispatcher
    from pytest_wimmelgate.sandbox.service.storage import FileStorage
    from pytest_wimmelgate.sandbox.service.traffic import TrafficClient

__all__ = ["TRAFFIC_USER", "App", "Call", "Dialect", "Request", "Response", "Route", "traffic_password"]

MAX_TEXT = 64 * 1024
PARAM_PATTERN = "[A-Za-z0-9_-]{1,64}"
QUIET_KINDS = ("metrics", "internal")  # not counted in the request metrics, logged at debug


@dataclass(frozen=True)
class Request:
    """One HTTP request as the app sees it (headers with lower-case names)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    request_id: str
    run_id: str | None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """What a route handler gets: the request, path parameters, the user and its token ("" if none)."""

    request: Request
    params: Mapping[str, str]
    user: str
    token: str = ""


@dataclass(frozen=True)
class Route:
    """One route of a dialect.

    ``kind``: ``api`` (latency and error-rate faults apply), ``readiness`` (latency only),
    ``health`` (no faults), ``metrics``/``internal`` (no faults, not counted).
    ``auth``: ``required``, ``optional`` (a given token must be valid) or ``none``.
    ``success``: the status declared at zero in the metrics. ``param``: the regex of
    every ``{name}`` in the template.
    """

    method: str
    template: str
    kind: str
    auth: str
    handler: Callable[[Call], Response]
    success: int = 200
    param: str = PARAM_PATTERN
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", rf"(?P<\1>{self.param})", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


class Dialect(Protocol):
    """One API surface over the service (see `dialects`)."""

    name: str

    def routes(self) -> list[Route]: ...

    def admit(self, request: Request) -> Response | None:
        """A refusal before routing (e.g. a missing application id), or None."""

    def session_token(self, request: Request) -> str | None:
        """The session token the request carries, or None."""

    def unauthenticated(self) -> Response: ...

    def error(self, kind: str, message: str) -> Response:
        """The answer to a failure; kinds: not_found, method_not_allowed, invalid_json,
        bad_request, injected (message: the fault), database, storage, internal."""

    def traffic_client(self) -> TrafficClient:
        """The synthetic traffic's requests in this dialect."""


class BadRequest(Exception):
    """The request body or parameters are invalid (400)."""


class InvalidJson(BadRequest):
    """The body is not a JSON object."""


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, "application/json", dict(headers or {}))


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``); raises `InvalidJson`."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise InvalidJson("body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidJson("body must be a JSON object")
    return body


def text_field(body: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    """A string field of a JSON body ("" when optional and absent); raises `BadRequest`."""
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{key!r} must be a non-empty string" if required else f"{key!r} must be a string")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{key!r} is longer than {MAX_TEXT} characters")
    return value


class App:
    """Dispatches requests to the active dialect's handlers; never raises from `handle`."""

    def __init__(
        self,
        settings: BackendSettings,
        *,
        db: Database,
        storage: FileStorage,
        push: PushDispatcher,
        metrics: Metrics,
        log: JsonLog,
    ) -> None:
        from pytest_wimmelgate.sandbox.service.dialects import make_dialect

        self.settings = settings
        self.metrics = metrics
        self.log = log
        self.service = Service(settings, db=db, storage=storage, push=push, metrics=metrics, log=log)
        self.dialect: Dialect = make_dialect(settings.dialect, self.service)
        self.routes = self._routes()

    def close(self) -> None:
        self.service.close()

    def seed_users(self) -> None:
        self.service.seed_users()

    def _routes(self) -> list[Route]:
        routes = [
            Route("GET", "/metrics", "metrics", "none", self._metrics_page),
            Route("GET", "/_sandbox/ready", "internal", "none", self._ready),
            Route("GET", "/_sandbox/stats", "internal", "none", self._stats),
        ]
        for route in self.dialect.routes():
            routes.append(route)
            # series exist from the start: Prometheus' rate() ignores the first sample
            # of a new series, so a 5xx series born with value 1 would show no errors
            self.metrics.declare_route(route.method, route.template, (route.success, 500, 503))
        return routes

    # -- routes of every dialect ----------------------------------------------------------

    def _metrics_page(self, call: Call) -> Response:
        body, content_type = self.metrics.render()
        return Response(200, body, content_type)

    def _ready(self, call: Call) -> Response:
        ready = self.service.ready
        return json_response(200 if ready else 503, {"ready": ready})

    def _stats(self, call: Call) -> Response:
        return json_response(200, self.service.stats())

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises."""
        from pymongo.errors import PyMongoError

        start = time.perf_counter()
        route, params, path_known = self._match(request.method, request.path)
        template = route.template if route else "unmatched"
        error = self.dialect.error
        try:
            response = self._dispatch(route, params, path_known, request)
        except InvalidJson as exc:
            response = error("invalid_json", str(exc))
        except BadRequest as exc:
            response = error("bad_request", str(exc))
        except InjectedFault as exc:
            response = error("injected", str(exc))
        except PyMongoError as exc:
            self.log.error(
                "MongoDB request failed",
                event="mongodb.error",
                error=exc.__class__.__name__,
                request_id=request.request_id,
            )
            response = error("database", "database unavailable")
        except StorageUnavailable as exc:
            self.log.error("file storage failed", event="storage.error", error=str(exc), request_id=request.request_id)
            response = error("storage", "file storage unavailable")
        except Exception as exc:  # the last line of defence: a 500, logged
            self.log.error("unhandled error", error=repr(exc), request_id=request.request_id)
            response = error("internal", "internal error")
        seconds = time.perf_counter() - start
        quiet = route is not None and route.kind in QUIET_KINDS
        if not quiet:
            self.metrics.observe_request(request.method, template, response.status, seconds)
        level = "error" if response.status >= 500 else "info"
        if quiet:
            level = "debug"
        self.log.log(
            level,
            "request",
            method=request.method,
            path=request.path,
            route=template,
            status=response.status,
            duration_ms=round(seconds * 1000, 2),
            request_id=request.request_id,
            run_id=request.run_id,
        )
        response.headers.setdefault("X-Request-Id", request.request_id)
        return response

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method:
                return route, found.groupdict(), True
        return None, {}, path_known

    def _dispatch(self, route: Route | None, params: dict[str, str], path_known: bool, request: Request) -> Response:
        if route is not None and route.kind in QUIET_KINDS:
            return route.handler(Call(request, params, ""))
        refusal = self.dialect.admit(request)
        if refusal is not None:
            return refusal
        if route is None:
            if path_known:
                return self.dialect.error("method_not_allowed", "method not allowed")
            return self.dialect.error("not_found", "not found")
        faults = self.settings.faults
        if route.kind in ("api", "readiness") and faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        if route.kind == "api" and self.service.error_fault.hit():
            raise InjectedFault("error_rate")
        user = token = ""
        if route.auth != "none":
            token = self.dialect.session_token(request) or ""
            user = (self.service.authenticate(token) if token else None) or ""
            if (token or route.auth == "required") and not user:
                return self.dialect.unauthenticated()
        return route.handler(Call(request, params, user, token))
