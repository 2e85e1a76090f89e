"""The "parse" dialect: the same service behind an API modelled on Parse Server.

Everything below ``/parse`` needs ``X-App-Id: <app id>`` (else 403, code 119). Sessions:
``POST /parse/users`` (signup), ``POST /parse/login``, ``GET /parse/users/me``,
``POST /parse/logout``, the token in ``X-Session-Token``. Messages are the class
``Message`` (``objectId``, ``recipient``, ``text``, ``runTag``, ``createdAt``), listed with
``?where={"runTag": ...}&limit=N``; that list is the request that touches the database
(there is no readiness endpoint). Files: raw body to ``POST /parse/files/{name}``, back as
a URL (``X-Storage: s3|local``); the run tag is the ``X-Wimmelgate-Run`` header. Push:
``POST /parse/push`` answers ``{"result": true}`` and leaves no record. ``/parse/status``
never touches the database and carries no version; ``/parse/about`` does. Errors are
``{"code": N, "error": "..."}`` with Parse's codes; a database outage is 500 (code 1).
"""

from __future__ import annotations

import hmac
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pytest_wimmelgate.sandbox.service.api import (
    Call,
    Request,
    Response,
    Route,
    json_object,
    json_response,
    text_field,
)
from pytest_wimmelgate.sandbox.service.service import user_object_id
from pytest_wimmelgate.sandbox.service.storage import ObjectMissing

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.service import Service
    from pytest_wimmelgate.sandbox.service.traffic import Send

PREFIX = "/parse"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
WHERE_FIELDS = {"runTag": "tag", "recipient": "to"}  # where key -> stored field
FILE_PARAM = "[^/]{1,255}"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9@. ~_-]{0,127}$")
_STORED_FILE = re.compile(r"^(?P<id>[0-9a-f]{32})_(?P<name>[A-Za-z0-9._-]+)$")
_INTERNAL = {"code": 1, "error": "Internal server error."}


def parse_error(status: int, code: int, message: str) -> Response:
    return json_response(status, {"code": code, "error": message})


class ParseDialect:
    """Route table and request/answer mapping of the parse dialect."""

    name = "parse"

    def __init__(self, service: Service) -> None:
        self.service = service
        self.app_id = service.settings.app_id

    def routes(self) -> list[Route]:
        p = PREFIX
        return [
            Route("GET", f"{p}/status", "health", "none", self.status),
            Route("GET", f"{p}/about", "health", "none", self.about),
            Route("POST", f"{p}/users", "api", "none", self.signup, 201),
            Route("POST", f"{p}/login", "api", "none", self.login),
            Route("GET", f"{p}/users/me", "api", "required", self.me),
            Route("POST", f"{p}/logout", "api", "required", self.logout),
            Route("POST", f"{p}/classes/Message", "api", "required", self.create_message, 201),
            Route("GET", f"{p}/classes/Message", "readiness", "optional", self.query_messages),
            Route("GET", f"{p}/classes/Message/{{objectId}}", "api", "required", self.get_message),
            Route("DELETE", f"{p}/classes/Message/{{objectId}}", "api", "required", self.delete_message),
            Route("POST", f"{p}/files/{{name}}", "api", "optional", self.create_file, 201, FILE_PARAM),
            Route("GET", f"{p}/files/{{name}}", "api", "optional", self.get_file, 200, FILE_PARAM),
            Route("DELETE", f"{p}/files/{{name}}", "api", "optional", self.delete_file, 200, FILE_PARAM),
            Route("POST", f"{p}/push", "api", "optional", self.push),
        ]

    # -- the dialect's frame --------------------------------------------------------------

    def admit(self, request: Request) -> Response | None:
        """Everything below the prefix needs the application id."""
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return None
        given = request.headers.get("x-app-id", "")
        if hmac.compare_digest(given.encode(), self.app_id.encode()):
            return None
        return parse_error(403, 119, "unauthorized")

    def session_token(self, request: Request) -> str | None:
        return request.headers.get("x-session-token", "").strip() or None

    def unauthenticated(self) -> Response:
        return parse_error(401, 209, "Invalid session token")

    def error(self, kind: str, message: str) -> Response:
        if kind == "not_found":
            return json_response(404, {"error": "not found"})
        if kind == "method_not_allowed":
            return json_response(405, {"error": "method not allowed"})
        if kind == "invalid_json":
            return parse_error(400, 107, message)
        if kind == "bad_request":
            return parse_error(400, 142, message)
        return json_response(500, _INTERNAL)

    def traffic_client(self) -> ParseTraffic:
        return ParseTraffic(self.app_id)

    # -- server ---------------------------------------------------------------------------

    def status(self, call: Call) -> Response:
        return json_response(200, {"status": "ok"})

    def about(self, call: Call) -> Response:
        settings = self.service.settings
        return json_response(200, {"serverVersion": settings.version, "build": {"commit": settings.commit}})

    # -- users and sessions ---------------------------------------------------------------

    def signup(self, call: Call) -> Response:
        credentials = _credentials(call)
        if isinstance(credentials, Response):
            return credentials
        username, password = credentials
        token = self.service.signup(username, password, call.request.run_id)
        if token is None:
            return parse_error(400, 202, "Account already exists for this username.")
        return json_response(201, {"objectId": user_object_id(username), "sessionToken": token})

    def login(self, call: Call) -> Response:
        credentials = _credentials(call)
        if isinstance(credentials, Response):
            return credentials
        username, password = credentials
        outcome = self.service.login(username, password, call.request.run_id)
        if outcome.retry_after is not None:
            return parse_error(429, 155, "Too many requests")
        if outcome.token is None:
            return parse_error(404, 101, "Invalid username/password.")
        return json_response(
            200, {"objectId": user_object_id(username), "username": username, "sessionToken": outcome.token}
        )

    def me(self, call: Call) -> Response:
        return json_response(200, {"objectId": user_object_id(call.user), "username": call.user})

    def logout(self, call: Call) -> Response:
        self.service.logout(call.token)
        return json_response(200, {})

    # -- messages -------------------------------------------------------------------------

    def create_message(self, call: Call) -> Response:
        body = json_object(call.request)
        doc = self.service.create_message(
            call.user,
            to=text_field(body, "recipient", required=True),
            body=text_field(body, "text", required=True),
            tag=text_field(body, "runTag"),
            run_id=call.request.run_id,
        )
        return json_response(201, {"objectId": doc["_id"], "createdAt": doc["created_at"]})

    def query_messages(self, call: Call) -> Response:
        query = _message_query(call.request)
        if isinstance(query, Response):
            return query
        filters, limit = query
        found = self.service.probe_messages(call.user, filters, max(1, limit))
        return json_response(200, {"results": [_message(doc) for doc in found[:limit]]})

    def get_message(self, call: Call) -> Response:
        doc = self.service.get_message(call.user, call.params["objectId"])
        if doc is None:
            return parse_error(404, 101, "Object not found.")
        return json_response(200, _message(doc))

    def delete_message(self, call: Call) -> Response:
        if self.service.delete_message(call.user, call.params["objectId"]):
            return json_response(200, {})
        return parse_error(404, 101, "Object not found.")

    # -- files ----------------------------------------------------------------------------

    def create_file(self, call: Call) -> Response:
        name = unquote(call.params["name"])
        if not _FILE_NAME.match(name):
            return parse_error(400, 122, "Filename contains invalid characters.")
        request = call.request
        doc = self.service.store_upload(
            call.user,
            name=re.sub(r"[^A-Za-z0-9._-]", "_", name),
            tag=request.run_id or "",
            data=request.body,
            run_id=request.run_id,
            content_type=request.headers.get("content-type", ""),
        )
        stored = f"{doc['_id']}_{doc['name']}"
        host = request.headers.get("host") or f"{self.service.settings.host}:{self.service.settings.port}"
        url = f"http://{host}{PREFIX}/files/{stored}"
        return json_response(
            201, {"name": stored, "url": url}, {"X-Storage": _storage_label(doc["storage"]), "Location": url}
        )

    def get_file(self, call: Call) -> Response:
        doc = self._stored_file(call)
        if doc is None:
            return parse_error(404, 101, "File not found.")
        try:
            data, source = self.service.upload_content(doc)
        except ObjectMissing:
            return parse_error(404, 101, "File not found.")
        content_type = str(doc.get("content_type") or "application/octet-stream")
        return Response(200, data, content_type, {"X-Storage": _storage_label(source)})

    def delete_file(self, call: Call) -> Response:
        doc = self._stored_file(call)
        if doc is None:
            return parse_error(404, 101, "File not found.")
        self.service.delete_upload(doc)
        return json_response(200, {})

    def _stored_file(self, call: Call) -> dict[str, Any] | None:
        """The upload a stored name (``<id>_<name>``) points to; files are public by URL."""
        found = _STORED_FILE.match(unquote(call.params["name"]))
        if found is None:
            return None
        doc = self.service.find_upload(found["id"], None)
        if doc is None or doc.get("name") != found["name"]:
            return None
        return doc

    # -- push -----------------------------------------------------------------------------

    def push(self, call: Call) -> Response:
        body = json_object(call.request)
        if not isinstance(body.get("where"), dict) or not isinstance(body.get("data"), dict):
            return parse_error(400, 115, "Push needs 'where' and 'data' objects.")
        text_field(body, "runTag")
        self.service.fire_push()
        return json_response(200, {"result": True})


def _credentials(call: Call) -> tuple[str, str] | Response:
    body = json_object(call.request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username:
        return parse_error(400, 200, "bad or missing username")
    if not isinstance(password, str) or not password:
        return parse_error(400, 201, "password is required")
    return text_field(body, "username"), text_field(body, "password")


def _message_query(request: Request) -> tuple[dict[str, str], int] | Response:
    """The stored-field filters and the limit of ``?where=...&limit=N``."""
    filters: dict[str, str] = {}
    where_text = request.query.get("where", "").strip()
    if where_text:
        try:
            where = json.loads(where_text)
        except ValueError:
            return parse_error(400, 107, "where is not JSON")
        if not isinstance(where, dict):
            return parse_error(400, 102, "where must be a JSON object")
        for key, value in where.items():
            if key not in WHERE_FIELDS or not isinstance(value, str):
                known = ", ".join(WHERE_FIELDS)
                return parse_error(400, 102, f"where: {key!r} must be one of {known} with a string value")
            filters[WHERE_FIELDS[key]] = value
    limit_text = request.query.get("limit", "").strip()
    try:
        limit = int(limit_text) if limit_text else DEFAULT_LIMIT
    except ValueError:
        return parse_error(400, 102, "limit must be an integer")
    if not 0 <= limit <= MAX_LIMIT:
        return parse_error(400, 102, f"limit must be between 0 and {MAX_LIMIT}")
    return filters, limit


def _message(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "objectId": doc.get("_id"),
        "recipient": doc.get("to"),
        "text": doc.get("body"),
        "runTag": doc.get("tag", ""),
        "createdAt": doc.get("created_at"),
    }


def _storage_label(stored_in: str) -> str:
    """``s3`` or ``local`` (the local fallback included)."""
    return "s3" if stored_in == "s3" else "local"


class ParseTraffic:
    """The synthetic traffic's requests in this dialect (see `traffic.TrafficGenerator`)."""

    def __init__(self, app_id: str) -> None:
        self._app_id = app_id

    def common_headers(self) -> dict[str, str]:
        return {"X-App-Id": self._app_id}

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"X-Session-Token": token}

    def health(self, send: Send) -> None:
        send("GET", f"{PREFIX}/status")

    def readiness(self, send: Send) -> None:
        send("GET", f"{PREFIX}/classes/Message", params={"limit": "1"})

    def login(self, send: Send, username: str, password: str) -> str | None:
        answer = send("POST", f"{PREFIX}/login", json={"username": username, "password": password})
        return str(answer.json().get("sessionToken", "")) or None if answer.status_code == 200 else None

    def logout(self, send: Send, token: str) -> None:
        send("POST", f"{PREFIX}/logout", token=token)

    def me(self, send: Send, token: str) -> None:
        send("GET", f"{PREFIX}/users/me", token=token)

    def message(self, send: Send, token: str, to: str, tag: str) -> None:
        created = send(
            "POST",
            f"{PREFIX}/classes/Message",
            token=token,
            json={"recipient": to, "text": "synthetic traffic", "runTag": tag},
        )
        if created.status_code != 201:
            return
        object_id = created.json()["objectId"]
        send("GET", f"{PREFIX}/classes/Message/{object_id}", token=token)
        send("DELETE", f"{PREFIX}/classes/Message/{object_id}", token=token)

    def list_messages(self, send: Send, token: str, tag: str) -> None:
        send("GET", f"{PREFIX}/classes/Message", token=token, params={"where": json.dumps({"runTag": tag})})

    def push(self, send: Send, token: str, to: str, tag: str) -> str | None:
        body = {"where": {"username": to}, "data": {"alert": "synthetic traffic"}, "runTag": tag}
        send("POST", f"{PREFIX}/push", token=token, json=body)
        return None  # no delivery tracking in this dialect

    def settle_push(self, send: Send, token: str, delivery_id: str) -> None:
        """Nothing to settle: pushes leave no record."""

    def upload(self, send: Send, token: str, data: bytes, tag: str) -> None:
        created = send("POST", f"{PREFIX}/files/t.bin", token=token, data=data)
        if created.status_code != 201:
            return
        stored = created.json()["name"]
        send("GET", f"{PREFIX}/files/{stored}", token=token)
        send("DELETE", f"{PREFIX}/files/{stored}", token=token)
