"""The Wimmelwelt backend's API as the smoke checks use it (paths from the environment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes.http import HttpAnswer, call

DEFAULT_PATHS = {
    "health": "/health",
    "readiness": "/readiness",
    "login": "/auth/login",
    "me": "/auth/me",
    "messages": "/messages",
    "uploads": "/uploads",
    "push_test": "/push/test",
    "push_deliveries": "/push/deliveries",
}
RUN_HEADER = "X-Wimmelgate-Run"


@dataclass
class BackendClient:
    """HTTP client of one backend; every request carries the run id header."""

    base_url: str
    run_id: str
    timeout_s: float = 5.0
    paths: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.paths = {**DEFAULT_PATHS, **dict(self.paths)}
        self.session.headers[RUN_HEADER] = self.run_id

    def url(self, name: str, suffix: str = "") -> str:
        return f"{self.base_url}{self.paths[name]}{suffix}"

    def request(
        self,
        method: str,
        name: str,
        suffix: str = "",
        *,
        token: str | None = None,
        expect: tuple[int, ...] | None = (200,),
        **kwargs: Any,
    ) -> HttpAnswer:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return call(
            method,
            self.url(name, suffix),
            session=self.session,
            timeout=self.timeout_s,
            expect=expect,
            headers=headers,
            **kwargs,
        )

    def health(self) -> dict[str, Any]:
        body = self.request("GET", "health").json()
        if not isinstance(body, dict):
            raise ProbeError(Category.PRODUCT, f"GET {self.url('health')}: body is not a JSON object")
        return body

    def readiness(self) -> HttpAnswer:
        return self.request("GET", "readiness", expect=None)

    def login(self, username: str, password: str) -> str:
        answer = self.request("POST", "login", json={"username": username, "password": password})
        token = _field(answer, "token")
        return str(token)

    def send_message(self, token: str, *, to: str, body: str, tag: str) -> str:
        answer = self.request(
            "POST", "messages", token=token, expect=(200, 201), json={"to": to, "body": body, "tag": tag}
        )
        return str(_field(answer, "id"))

    def read_message(self, token: str, message_id: str) -> dict[str, Any]:
        return dict(self.request("GET", "messages", f"/{message_id}", token=token).json())

    def messages_tagged(self, token: str, tag: str) -> list[dict[str, Any]]:
        body = self.request("GET", "messages", token=token, params={"tag": tag}).json()
        items = body.get("messages", body) if isinstance(body, dict) else body
        return [dict(i) for i in items] if isinstance(items, list) else []

    def delete_message(self, token: str, message_id: str) -> None:
        self.request("DELETE", "messages", f"/{message_id}", token=token, expect=(200, 204, 404))

    def upload(self, token: str, *, name: str, data: bytes, tag: str) -> dict[str, Any]:
        answer = self.request(
            "POST",
            "uploads",
            token=token,
            expect=(200, 201),
            params={"name": name, "tag": tag},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        body = answer.json()
        _field(answer, "id")
        return dict(body)

    def download(self, token: str, upload_id: str) -> bytes:
        return self.request("GET", "uploads", f"/{upload_id}", token=token).body

    def delete_upload(self, token: str, upload_id: str) -> None:
        self.request("DELETE", "uploads", f"/{upload_id}", token=token, expect=(200, 204, 404))

    def push_test(self, token: str, *, tag: str) -> str:
        answer = self.request("POST", "push_test", token=token, expect=(202,), json={"tag": tag})
        return str(_field(answer, "delivery_id"))

    def delete_push(self, token: str, delivery_id: str) -> None:
        self.request("DELETE", "push_deliveries", f"/{delivery_id}", token=token, expect=(200, 204, 404))

    def push_status(self, token: str, delivery_id: str) -> str:
        answer = self.request("GET", "push_deliveries", f"/{delivery_id}", token=token)
        return str(_field(answer, "status"))


def _field(answer: HttpAnswer, name: str) -> Any:
    body = answer.json()
    if not isinstance(body, dict) or name not in body:
        raise ProbeError(Category.PRODUCT, f"{answer.method} {answer.url}: answer lacks {name!r}", answer.evidence())
    return body[name]
