"""The Wimmelwelt API: routes, auth, faults, metrics and access logs; no HTTP server here."""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.sandbox.service.auth import (
    TOKEN_TTL_S,
    LoginLimiter,
    TokenSigner,
    hash_password,
    verify_password,
)
from pytest_wimmelgate.sandbox.service.fault_switches import EvenlySpaced
from pytest_wimmelgate.sandbox.service.jsonlog import utc_timestamp
from pytest_wimmelgate.sandbox.service.storage import ObjectMissing, StorageUnavailable

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.backend_settings import BackendSettings
    from pytest_wimmelgate.sandbox.service.database import Database
    from pytest_wimmelgate.sandbox.service.instruments import Metrics
    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog
    from pytest_wimmelgate.sandbox.service.push import PushDispatcher
    from pytest_wimmelgate.sandbox.service.storage import FileStorage

READINESS_BUDGET_S = 1.2
TRAFFIC_USER = "traffic-bot"
MAX_TEXT = 64 * 1024


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
    """What a route handler gets: the request, path parameters and the user (or "")."""

    request: Request
    params: Mapping[str, str]
    user: str


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    kind: str  # api | health | readiness | metrics
    auth: bool
    handler: Callable[[Call], Response]
    pattern: re.Pattern[str]


class BadRequest(Exception):
    """The request body or parameters are invalid (400)."""


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, "application/json", dict(headers or {}))


def traffic_password(auth_secret: str) -> str:
    """The synthetic traffic user's password, derived so every backend agrees on it."""
    return hashlib.sha256(f"traffic:{auth_secret}".encode()).hexdigest()


class App:
    """Dispatches requests to handlers, applying latency/error faults, auth and metrics."""

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
        self.settings = settings
        self.db = db
        self.storage = storage
        self.push = push
        self.metrics = metrics
        self.log = log
        self._error_fault = EvenlySpaced(settings.faults.error_rate)
        self._flap_fault = EvenlySpaced(settings.faults.readiness_flap_rate)
        self.tokens = TokenSigner(settings.auth_secret)
        self.limiter = LoginLimiter(settings.login_limit)
        self._checks = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="readiness")
        self.routes = self._routes()

    def close(self) -> None:
        self._checks.shutdown(wait=False, cancel_futures=True)

    def _routes(self) -> list[Route]:
        table: list[tuple[str, str, str, bool, Callable[[Call], Response], int]] = [
            ("GET", "/health", "health", False, self.health, 200),
            ("GET", "/readiness", "readiness", False, self.readiness, 200),
            ("GET", "/metrics", "metrics", False, self.metrics_page, 200),
            ("POST", "/auth/login", "api", False, self.login, 200),
            ("GET", "/auth/me", "api", True, self.me, 200),
            ("POST", "/messages", "api", True, self.create_message, 201),
            ("GET", "/messages", "api", True, self.list_messages, 200),
            ("GET", "/messages/{id}", "api", True, self.get_message, 200),
            ("DELETE", "/messages/{id}", "api", True, self.delete_message, 204),
            ("POST", "/uploads", "api", True, self.create_upload, 201),
            ("GET", "/uploads/{id}", "api", True, self.get_upload, 200),
            ("DELETE", "/uploads/{id}", "api", True, self.delete_upload, 204),
            ("POST", "/push/test", "api", True, self.create_push, 202),
            ("GET", "/push/deliveries/{id}", "api", True, self.get_push, 200),
            ("DELETE", "/push/deliveries/{id}", "api", True, self.delete_push, 204),
        ]
        routes = []
        for method, template, kind, auth, handler, success in table:
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[A-Za-z0-9_-]{1,64})", re.escape(template))
            routes.append(Route(method, template, kind, auth, handler, re.compile(f"^{regex}$")))
            if kind != "metrics":
                # series exist from the start: Prometheus' rate() ignores the first sample
                # of a new series, so a 5xx series born with value 1 would show no errors
                self.metrics.declare_route(method, template, (success, 500, 503))
        return routes

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises."""
        from pymongo.errors import PyMongoError

        start = time.perf_counter()
        route, params, path_known = self._match(request.method, request.path)
        template = route.template if route else "unmatched"
        try:
            response = self._dispatch(route, params, path_known, request)
        except BadRequest as exc:
            response = json_response(400, {"error": str(exc)})
        except PyMongoError as exc:
            self.log.error(
                "MongoDB request failed",
                event="mongodb.error",
                error=exc.__class__.__name__,
                request_id=request.request_id,
            )
            response = json_response(503, {"error": "database unavailable"})
        except StorageUnavailable as exc:
            self.log.error("file storage failed", event="storage.error", error=str(exc), request_id=request.request_id)
            response = json_response(503, {"error": "file storage unavailable"})
        except Exception as exc:  # the last line of defence: a 500, logged
            self.log.error("unhandled error", error=repr(exc), request_id=request.request_id)
            response = json_response(500, {"error": "internal error"})
        seconds = time.perf_counter() - start
        if route is None or route.kind != "metrics":
            self.metrics.observe_request(request.method, template, response.status, seconds)
        level = "error" if response.status >= 500 else "info"
        if route is not None and route.kind == "metrics":
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
        if route is None:
            if path_known:
                return json_response(405, {"error": "method not allowed"})
            return json_response(404, {"error": "not found"})
        faults = self.settings.faults
        if route.kind in ("api", "readiness") and faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        if route.kind == "api" and self._error_fault.hit():
            return json_response(500, {"error": "injected fault (error_rate)"})
        user = ""
        if route.auth:
            user = self._authenticate(request) or ""
            if not user:
                return json_response(401, {"error": "missing or invalid bearer token"}, {"WWW-Authenticate": "Bearer"})
        return route.handler(Call(request, params, user))

    def _authenticate(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.tokens.verify(token.strip())

    # -- users ----------------------------------------------------------------------------

    def seed_users(self) -> None:
        """Create or refresh the smoke user and the synthetic traffic user."""
        users = [(TRAFFIC_USER, traffic_password(self.settings.auth_secret), "traffic")]
        if self.settings.smoke_password:
            users.insert(0, (self.settings.smoke_user, self.settings.smoke_password, "smoke"))
        for username, password, role in users:
            self.db.upsert(
                "users",
                username,
                {"password_hash": hash_password(password), "role": role, "updated_at": utc_timestamp()},
            )

    # -- probes ---------------------------------------------------------------------------

    def health(self, call: Call) -> Response:
        return json_response(200, {"status": "ok", "version": self.settings.version, "commit": self.settings.commit})

    def readiness(self, call: Call) -> Response:
        faults = self.settings.faults
        pending: dict[str, concurrent.futures.Future[str]] = {}
        if not faults.readiness_ignores_db:
            pending["mongodb"] = self._checks.submit(self._check_mongodb)
        pending["storage"] = self._checks.submit(self.storage.check)
        deadline = time.monotonic() + READINESS_BUDGET_S
        checks: dict[str, str] = {}
        failing: list[str] = []
        for name, future in pending.items():
            try:
                checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                checks[name] = "fail: no answer within the readiness budget"
                failing.append(name)
            except Exception as exc:
                checks[name] = f"fail: {exc.__class__.__name__}"
                failing.append(name)
        if self._flap_fault.hit():
            checks["flap"] = "fail: injected fault (readiness_flap_rate)"
            failing.append("flap")
        self.metrics.readiness.labels(result="fail" if failing else "ok").inc()
        if not failing:
            return json_response(200, {"status": "ready", "checks": checks})
        self.log.warning(
            "readiness failed", event="readiness.fail", failing=failing, request_id=call.request.request_id
        )
        return json_response(503, {"status": "fail", "failing": failing, "checks": checks})

    def _check_mongodb(self) -> str:
        try:
            self.db.ping()
        except Exception as exc:
            self.log.error("MongoDB ping failed", event="mongodb.ping_failed", error=exc.__class__.__name__)
            raise
        return "ok"

    def metrics_page(self, call: Call) -> Response:
        body, content_type = self.metrics.render()
        return Response(200, body, content_type)

    # -- auth -----------------------------------------------------------------------------

    def login(self, call: Call) -> Response:
        body = _json_object(call.request)
        username = _text(body, "username", required=True)
        password = _text(body, "password", required=True)
        retry_after = self.limiter.retry_after(username)
        if retry_after is not None:
            self.log.warning("login rate limited", event="auth.429", username=username)
            return json_response(
                429,
                {"error": "too many failed login attempts", "retry_after": retry_after},
                {"Retry-After": str(retry_after)},
            )
        user = self.db.get("users", username)
        if user is not None and verify_password(password, str(user.get("password_hash", ""))):
            self.limiter.reset(username)
            return json_response(
                200, {"token": self.tokens.issue(username), "token_type": "Bearer", "expires_in": TOKEN_TTL_S}
            )
        self.limiter.record_failure(username)
        self.log.warning("login failed", event="auth.401", username=username)
        return json_response(401, {"error": "invalid credentials"})

    def me(self, call: Call) -> Response:
        return json_response(200, {"username": call.user})

    # -- messages -------------------------------------------------------------------------

    def create_message(self, call: Call) -> Response:
        body = _json_object(call.request)
        message_id = uuid.uuid4().hex
        self.db.insert(
            "messages",
            {
                "_id": message_id,
                "from": call.user,
                "to": _text(body, "to", required=True),
                "body": _text(body, "body", required=True),
                "tag": _text(body, "tag"),
                "run_id": call.request.run_id,
                "created_at": utc_timestamp(),
            },
        )
        return json_response(201, {"id": message_id})

    def get_message(self, call: Call) -> Response:
        doc = self.db.get("messages", call.params["id"])
        if doc is None or call.user not in (doc.get("from"), doc.get("to")):
            return json_response(404, {"error": "message not found"})
        return json_response(200, _public(doc))

    def list_messages(self, call: Call) -> Response:
        query: dict[str, Any] = {"$or": [{"from": call.user}, {"to": call.user}]}
        tag = call.request.query.get("tag")
        if tag is not None:
            query["tag"] = tag
        return json_response(200, [_public(doc) for doc in self.db.find("messages", query)])

    def delete_message(self, call: Call) -> Response:
        if self.db.delete("messages", {"_id": call.params["id"], "from": call.user}):
            return Response(204)
        return json_response(404, {"error": "message not found"})

    # -- uploads --------------------------------------------------------------------------

    def create_upload(self, call: Call) -> Response:
        data = call.request.body
        upload_id = uuid.uuid4().hex
        key = f"uploads/{upload_id}"
        stored_in = self.storage.put(key, data)
        digest = hashlib.sha256(data).hexdigest()
        try:
            self.db.insert(
                "uploads",
                {
                    "_id": upload_id,
                    "owner": call.user,
                    "tag": call.request.query.get("tag", ""),
                    "name": call.request.query.get("name", "upload.bin")[:255],
                    "size": len(data),
                    "sha256": digest,
                    "storage": stored_in,
                    "run_id": call.request.run_id,
                    "created_at": utc_timestamp(),
                },
            )
        except Exception:
            with contextlib.suppress(StorageUnavailable):
                self.storage.delete(key, stored_in)
            raise
        if stored_in == "local-fallback":
            self.log.warning("upload stored in local fallback", event="storage.fallback", upload_id=upload_id)
        return json_response(201, {"id": upload_id, "size": len(data), "sha256": digest, "storage": stored_in})

    def get_upload(self, call: Call) -> Response:
        doc = self.db.get("uploads", call.params["id"])
        if doc is None or doc.get("owner") != call.user:
            return json_response(404, {"error": "upload not found"})
        try:
            data, source = self.storage.get(f"uploads/{doc['_id']}", str(doc.get("storage")))
        except ObjectMissing:
            return json_response(404, {"error": "upload content missing"})
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(doc.get("name", "upload.bin")))
        return Response(
            200,
            data,
            "application/octet-stream",
            {
                "X-Storage": source,
                "X-Content-SHA256": str(doc.get("sha256", "")),
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    def delete_upload(self, call: Call) -> Response:
        doc = self.db.get("uploads", call.params["id"])
        if doc is None or doc.get("owner") != call.user:
            return json_response(404, {"error": "upload not found"})
        self.storage.delete(f"uploads/{doc['_id']}", str(doc.get("storage")))
        self.db.delete("uploads", {"_id": doc["_id"]})
        return Response(204)

    # -- push -----------------------------------------------------------------------------

    def create_push(self, call: Call) -> Response:
        body = _json_object(call.request)
        delivery_id = self.push.submit(call.user, _text(body, "tag"), call.request.run_id)
        return json_response(202, {"delivery_id": delivery_id, "status": "pending"})

    def get_push(self, call: Call) -> Response:
        doc = self.db.get("push_deliveries", call.params["id"])
        if doc is None or doc.get("owner") != call.user:
            return json_response(404, {"error": "delivery not found"})
        return json_response(200, _public(doc))

    def delete_push(self, call: Call) -> Response:
        if self.db.delete("push_deliveries", {"_id": call.params["id"], "owner": call.user}):
            return Response(204)
        return json_response(404, {"error": "delivery not found"})


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _text(body: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"{key!r} must be a non-empty string" if required else f"{key!r} must be a string")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{key!r} is longer than {MAX_TEXT} characters")
    return value


def _public(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document as the API shows it: ``_id`` becomes ``id``."""
    shown = {"id": doc.get("_id")}
    shown.update({k: v for k, v in doc.items() if k not in ("_id", "password_hash")})
    return shown
