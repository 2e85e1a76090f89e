"""Synthetic traffic: a thread sending a steady, realistic request mix to the backend.

It gives Prometheus windows data as staging traffic would. Everything it creates is
tagged ``traffic`` and deleted again; faults of the backend act on it like on any client.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog

TAG = "traffic"
TIMEOUT_S = 5.0
WEIGHTS = {
    "health": 8,
    "readiness": 12,
    "me": 20,
    "login": 8,
    "bad_login": 3,
    "message": 25,
    "list": 6,
    "push": 12,
    "upload": 6,
}


class TrafficGenerator:
    """Sends about ``rps`` requests per second to ``base_url`` until stopped.

    Each step is one action of the mix (some take several requests, e.g. send, read and
    delete a message); the pause after it is scaled by the requests it made.
    """

    def __init__(
        self, base_url: str, *, rps: float, username: str, password: str, log: JsonLog, rng: random.Random
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._interval = 1.0 / rps if rps > 0 else 0.0
        self._username = username
        self._password = password
        self._log = log
        self._rng = rng
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self._token = ""
        self._sent = 0
        self._pushes: deque[tuple[float, str]] = deque()
        self._actions: dict[str, Callable[[requests.Session], None]] = {
            "health": self._health,
            "readiness": self._readiness,
            "me": self._me,
            "login": self._login,
            "bad_login": self._bad_login,
            "message": self._message,
            "list": self._list,
            "push": self._push,
            "upload": self._upload,
        }

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_S + 1)

    def _run(self) -> None:
        import requests

        session = requests.Session()
        session.headers.update({"X-Wimmelgate-Run": TAG, "User-Agent": "wimmelwelt-sandbox-traffic"})
        names = list(WEIGHTS)
        weights = [WEIGHTS[n] for n in names]
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                action = self._rng.choices(names, weights)[0]
                self._sent = 0
                try:
                    self._actions[action](session)
                except requests.RequestException as exc:
                    self._log.debug("traffic request failed", action=action, error=exc.__class__.__name__)
                steps = max(1, self._sent)
                next_at = max(next_at + steps * self._interval, time.monotonic() - 1.0)
                self._stop.wait(max(0.0, next_at - time.monotonic()))
            self._drain_pushes(session, final=True)
        finally:
            session.close()

    def _call(self, session: requests.Session, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self._token and path != "/auth/login":
            headers["Authorization"] = f"Bearer {self._token}"
        self._sent += 1
        answer = session.request(method, self._base_url + path, headers=headers, timeout=TIMEOUT_S, **kwargs)
        if answer.status_code == 401 and path != "/auth/login":
            self._token = ""
        return answer

    def _ensure_token(self, session: requests.Session) -> bool:
        if not self._token:
            self._login(session)
        return bool(self._token)

    def _health(self, session: requests.Session) -> None:
        self._call(session, "GET", "/health")

    def _readiness(self, session: requests.Session) -> None:
        self._call(session, "GET", "/readiness")

    def _login(self, session: requests.Session) -> None:
        answer = self._call(
            session, "POST", "/auth/login", json={"username": self._username, "password": self._password}
        )
        if answer.status_code == 200:
            self._token = str(answer.json().get("token", ""))

    def _bad_login(self, session: requests.Session) -> None:
        name = f"traffic-intruder-{self._rng.randrange(10_000)}"
        self._call(session, "POST", "/auth/login", json={"username": name, "password": "wrong"})

    def _me(self, session: requests.Session) -> None:
        if self._ensure_token(session):
            self._call(session, "GET", "/auth/me")

    def _message(self, session: requests.Session) -> None:
        if not self._ensure_token(session):
            return
        answer = self._call(
            session, "POST", "/messages", json={"to": self._username, "body": "synthetic traffic", "tag": TAG}
        )
        if answer.status_code != 201:
            return
        message_id = answer.json()["id"]
        self._call(session, "GET", f"/messages/{message_id}")
        self._call(session, "DELETE", f"/messages/{message_id}")

    def _list(self, session: requests.Session) -> None:
        if self._ensure_token(session):
            self._call(session, "GET", "/messages", params={"tag": TAG})

    def _push(self, session: requests.Session) -> None:
        if not self._ensure_token(session):
            return
        answer = self._call(session, "POST", "/push/test", json={"tag": TAG})
        if answer.status_code == 202:
            self._pushes.append((time.monotonic(), answer.json()["delivery_id"]))
        self._drain_pushes(session, final=False)

    def _drain_pushes(self, session: requests.Session, *, final: bool) -> None:
        """Read back and delete deliveries old enough to be settled."""
        import requests

        while self._pushes and (final or self._pushes[0][0] < time.monotonic() - 1.0):
            _, delivery_id = self._pushes.popleft()
            try:
                self._call(session, "GET", f"/push/deliveries/{delivery_id}")
                self._call(session, "DELETE", f"/push/deliveries/{delivery_id}")
            except requests.RequestException:
                if final:
                    return

    def _upload(self, session: requests.Session) -> None:
        if not self._ensure_token(session):
            return
        data = self._rng.randbytes(1024)
        answer = self._call(session, "POST", "/uploads", params={"name": "t.bin", "tag": TAG}, data=data)
        if answer.status_code != 201:
            return
        upload_id = answer.json()["id"]
        self._call(session, "GET", f"/uploads/{upload_id}")
        self._call(session, "DELETE", f"/uploads/{upload_id}")
