"""The default dialect: the Wimmelwelt API (``Authorization: Bearer``, ``id`` fields).

Routes: ``GET /health``, ``GET /readiness``, ``POST /auth/login``, ``GET /auth/me``,
``POST /auth/logout``, ``/messages`` (create, list by ``?tag=``, read, delete),
``/uploads`` (raw body with ``?name=&tag=``, download, delete), ``POST /push/test`` and
``/push/deliveries/{id}`` (read, delete). Errors are ``{"error": "..."}``; a database or
storage outage is 503.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.sandbox.service.api import (
    Call,
    Request,
    Response,
    Route,
    json_object,
    json_response,
    text_field,
)
from pytest_wimmelgate.sandbox.service.auth import TOKEN_TTL_S
from pytest_wimmelgate.sandbox.service.storage import ObjectMissing

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_wimmelgate.sandbox.service.service import Service
    from pytest_wimmelgate.sandbox.service.traffic import Send

_ERRORS = {
    "not_found": (404, "not found"),
    "method_not_allowed": (405, "method not allowed"),
    "database": (503, "database unavailable"),
    "storage": (503, "file storage unavailable"),
    "internal": (500, "internal error"),
}


class WimmelweltDialect:
    """Today's API, unchanged for existing clients; `POST /auth/logout` ends a session."""

    name = "wimmelwelt"

    def __init__(self, service: Service) -> None:
        self.service = service

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/health", "health", "none", self.health),
            Route("GET", "/readiness", "readiness", "none", self.readiness),
            Route("POST", "/auth/login", "api", "none", self.login),
            Route("GET", "/auth/me", "api", "required", self.me),
            Route("POST", "/auth/logout", "api", "required", self.logout, 204),
            Route("POST", "/messages", "api", "required", self.create_message, 201),
            Route("GET", "/messages", "api", "required", self.list_messages),
            Route("GET", "/messages/{id}", "api", "required", self.get_message),
            Route("DELETE", "/messages/{id}", "api", "required", self.delete_message, 204),
            Route("POST", "/uploads", "api", "required", self.create_upload, 201),
            Route("GET", "/uploads/{id}", "api", "required", self.get_upload),
            Route("DELETE", "/uploads/{id}", "api", "required", self.delete_upload, 204),
            Route("POST", "/push/test", "api", "required", self.create_push, 202),
            Route("GET", "/push/deliveries/{id}", "api", "required", self.get_push),
            Route("DELETE", "/push/deliveries/{id}", "api", "required", self.delete_push, 204),
        ]

    # -- the dialect's frame --------------------------------------------------------------

    def admit(self, request: Request) -> Response | None:
        return None

    def session_token(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def unauthenticated(self) -> Response:
        return json_response(401, {"error": "missing or invalid bearer token"}, {"WWW-Authenticate": "Bearer"})

    def error(self, kind: str, message: str) -> Response:
        if kind in ("bad_request", "invalid_json"):
            return json_response(400, {"error": message})
        if kind == "injected":
            return json_response(500, {"error": f"injected fault ({message})"})
        status, text = _ERRORS.get(kind, _ERRORS["internal"])
        return json_response(status, {"error": text})

    def traffic_client(self) -> WimmelweltTraffic:
        return WimmelweltTraffic()

    # -- probes ---------------------------------------------------------------------------

    def health(self, call: Call) -> Response:
        settings = self.service.settings
        return json_response(200, {"status": "ok", "version": settings.version, "commit": settings.commit})

    def readiness(self, call: Call) -> Response:
        result = self.service.readiness()
        if result.ok:
            return json_response(200, {"status": "ready", "checks": result.checks})
        self.service.log.warning(
            "readiness failed", event="readiness.fail", failing=result.failing, request_id=call.request.request_id
        )
        return json_response(503, {"status": "fail", "failing": result.failing, "checks": result.checks})

    # -- auth -----------------------------------------------------------------------------

    def login(self, call: Call) -> Response:
        body = json_object(call.request)
        username = text_field(body, "username", required=True)
        password = text_field(body, "password", required=True)
        outcome = self.service.login(username, password, call.request.run_id)
        if outcome.retry_after is not None:
            return json_response(
                429,
                {"error": "too many failed login attempts", "retry_after": outcome.retry_after},
                {"Retry-After": str(outcome.retry_after)},
            )
        if outcome.token is None:
            return json_response(401, {"error": "invalid credentials"})
        return json_response(200, {"token": outcome.token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S})

    def me(self, call: Call) -> Response:
        return json_response(200, {"username": call.user})

    def logout(self, call: Call) -> Response:
        self.service.logout(call.token)
        return Response(204)

    # -- messages -------------------------------------------------------------------------

    def create_message(self, call: Call) -> Response:
        body = json_object(call.request)
        doc = self.service.create_message(
            call.user,
            to=text_field(body, "to", required=True),
            body=text_field(body, "body", required=True),
            tag=text_field(body, "tag"),
            run_id=call.request.run_id,
        )
        return json_response(201, {"id": doc["_id"]})

    def get_message(self, call: Call) -> Response:
        doc = self.service.get_message(call.user, call.params["id"])
        if doc is None:
            return json_response(404, {"error": "message not found"})
        return json_response(200, _public(doc))

    def list_messages(self, call: Call) -> Response:
        tag = call.request.query.get("tag")
        found = self.service.list_messages(call.user, {} if tag is None else {"tag": tag})
        return json_response(200, [_public(doc) for doc in found])

    def delete_message(self, call: Call) -> Response:
        if self.service.delete_message(call.user, call.params["id"]):
            return Response(204)
        return json_response(404, {"error": "message not found"})

    # -- uploads --------------------------------------------------------------------------

    def create_upload(self, call: Call) -> Response:
        query = call.request.query
        doc = self.service.store_upload(
            call.user,
            name=query.get("name", "upload.bin"),
            tag=query.get("tag", ""),
            data=call.request.body,
            run_id=call.request.run_id,
        )
        return json_response(
            201, {"id": doc["_id"], "size": doc["size"], "sha256": doc["sha256"], "storage": doc["storage"]}
        )

    def get_upload(self, call: Call) -> Response:
        doc = self.service.find_upload(call.params["id"], call.user)
        if doc is None:
            return json_response(404, {"error": "upload not found"})
        try:
            data, source = self.service.upload_content(doc)
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
        doc = self.service.find_upload(call.params["id"], call.user)
        if doc is None:
            return json_response(404, {"error": "upload not found"})
        self.service.delete_upload(doc)
        return Response(204)

    # -- push -----------------------------------------------------------------------------

    def create_push(self, call: Call) -> Response:
        body = json_object(call.request)
        delivery_id = self.service.submit_push(call.user, text_field(body, "tag"), call.request.run_id)
        return json_response(202, {"delivery_id": delivery_id, "status": "pending"})

    def get_push(self, call: Call) -> Response:
        doc = self.service.get_push(call.user, call.params["id"])
        if doc is None:
            return json_response(404, {"error": "delivery not found"})
        return json_response(200, _public(doc))

    def delete_push(self, call: Call) -> Response:
        if self.service.delete_push(call.user, call.params["id"]):
            return Response(204)
        return json_response(404, {"error": "delivery not found"})


def _public(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document as the API shows it: ``_id`` becomes ``id``."""
    shown = {"id": doc.get("_id")}
    shown.update({k: v for k, v in doc.items() if k not in ("_id", "password_hash")})
    return shown


class WimmelweltTraffic:
    """The synthetic traffic's requests in this dialect (see `traffic.TrafficGenerator`)."""

    def common_headers(self) -> dict[str, str]:
        return {}

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def health(self, send: Send) -> None:
        send("GET", "/health")

    def readiness(self, send: Send) -> None:
        send("GET", "/readiness")

    def login(self, send: Send, username: str, password: str) -> str | None:
        answer = send("POST", "/auth/login", json={"username": username, "password": password})
        return str(answer.json().get("token", "")) or None if answer.status_code == 200 else None

    def logout(self, send: Send, token: str) -> None:
        send("POST", "/auth/logout", token=token)

    def me(self, send: Send, token: str) -> None:
        send("GET", "/auth/me", token=token)

    def message(self, send: Send, token: str, to: str, tag: str) -> None:
        answer = send("POST", "/messages", token=token, json={"to": to, "body": "synthetic traffic", "tag": tag})
        if answer.status_code != 201:
            return
        message_id = answer.json()["id"]
        send("GET", f"/messages/{message_id}", token=token)
        send("DELETE", f"/messages/{message_id}", token=token)

    def list_messages(self, send: Send, token: str, tag: str) -> None:
        send("GET", "/messages", token=token, params={"tag": tag})

    def push(self, send: Send, token: str, to: str, tag: str) -> str | None:
        answer = send("POST", "/push/test", token=token, json={"tag": tag})
        return str(answer.json()["delivery_id"]) if answer.status_code == 202 else None

    def settle_push(self, send: Send, token: str, delivery_id: str) -> None:
        send("GET", f"/push/deliveries/{delivery_id}", token=token)
        send("DELETE", f"/push/deliveries/{delivery_id}", token=token)

    def upload(self, send: Send, token: str, data: bytes, tag: str) -> None:
        answer = send("POST", "/uploads", token=token, params={"name": "t.bin", "tag": tag}, data=data)
        if answer.status_code != 201:
            return
        upload_id = answer.json()["id"]
        send("GET", f"/uploads/{upload_id}", token=token)
        send("DELETE", f"/uploads/{upload_id}", token=token)
