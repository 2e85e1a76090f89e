"""Synthetic traffic: a thread sending a steady, realistic request mix to the backend.

It gives Prometheus windows data as staging traffic would. Everything it creates is
tagged ``traffic`` and deleted again, and it keeps at most one session open (a new login
ends the previous session); faults of the backend act on it like on any client. The mix
is the same in every API dialect; a `TrafficClient` (from the dialect) says how each
action is sent.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

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


class Send(Protocol):
    """Sends one request of the mix (path below the base URL; ``token``: the session to use)."""

    def __call__(self, method: str, path: str, *, token: str = "", **kwargs: Any) -> requests.Response: ...


class TrafficClient(Protocol):
    """One dialect's requests for each action of the mix."""

    def common_headers(self) -> dict[str, str]: ...
    def auth_headers(self, token: str) -> dict[str, str]: ...
    def health(self, send: Send) -> None: ...
    def readiness(self, send: Send) -> None: ...
    def login(self, send: Send, username: str, password: str) -> str | None: ...
    def logout(self, send: Send, token: str) -> None: ...
    def me(self, send: Send, token: str) -> None: ...
    def message(self, send: Send, token: str, to: str, tag: str) -> None: ...
    def list_messages(self, send: Send, token: str, tag: str) -> None: ...
    def push(self, send: Send, token: str, to: str, tag: str) -> str | None: ...
    def settle_push(self, send: Send, token: str, delivery_id: str) -> None: ...
    def upload(self, send: Send, token: str, data: bytes, tag: str) -> None: ...


class TrafficGenerator:
    """Sends about ``rps`` requests per second to ``base_url`` until stopped.

    Each step is one action of the mix (some take several requests, e.g. send, read and
    delete a message); the pause after it is scaled by the requests it made. ``client``
    is the dialect's way of sending each action (default: the Wimmelwelt API).
    """

    def __init__(
        self,
        base_url: str,
        *,
        rps: float,
        username: str,
        password: str,
        log: JsonLog,
        rng: random.Random,
        client: TrafficClient | None = None,
    ) -> None:
        if client is None:
            from pytest_wimmelgate.sandbox.service.dialects.wimmelwelt import WimmelweltTraffic

            client = WimmelweltTraffic()
        self._base_url = base_url.rstrip("/")
        self._interval = 1.0 / rps if rps > 0 else 0.0
        self._username = username
        self._password = password
        self._log = log
        self._rng = rng
        self._client = client
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self._session: requests.Session | None = None
        self._token = ""
        self._sent = 0
        self._pushes: deque[tuple[float, str]] = deque()
        self._actions: dict[str, Callable[[], None]] = {
            "health": lambda: self._client.health(self._send),
            "readiness": lambda: self._client.readiness(self._send),
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

        self._session = requests.Session()
        self._session.headers.update({"X-Wimmelgate-Run": TAG, "User-Agent": "wimmelwelt-sandbox-traffic"})
        self._session.headers.update(self._client.common_headers())
        names = list(WEIGHTS)
        weights = [WEIGHTS[n] for n in names]
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                action = self._rng.choices(names, weights)[0]
                self._sent = 0
                try:
                    self._actions[action]()
                except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                    self._log.debug("traffic request failed", action=action, error=exc.__class__.__name__)
                steps = max(1, self._sent)
                next_at = max(next_at + steps * self._interval, time.monotonic() - 1.0)
                self._stop.wait(max(0.0, next_at - time.monotonic()))
            self._drain_pushes(final=True)
            self._end_session()
        finally:
            self._session.close()

    def _send(self, method: str, path: str, *, token: str = "", **kwargs: Any) -> requests.Response:
        assert self._session is not None
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers.update(self._client.auth_headers(token))
        self._sent += 1
        answer = self._session.request(method, self._base_url + path, headers=headers, timeout=TIMEOUT_S, **kwargs)
        if answer.status_code == 401 and token and token == self._token:
            self._token = ""
        return answer

    def _ensure_token(self) -> str:
        if not self._token:
            self._login()
        return self._token

    def _login(self) -> None:
        previous = self._token
        token = self._client.login(self._send, self._username, self._password)
        if token:
            self._token = token
            if previous:
                self._client.logout(self._send, previous)

    def _end_session(self) -> None:
        import requests

        if self._token:
            token, self._token = self._token, ""
            with contextlib.suppress(requests.RequestException):
                self._client.logout(self._send, token)

    def _bad_login(self) -> None:
        name = f"traffic-intruder-{self._rng.randrange(10_000)}"
        self._client.login(self._send, name, "wrong")

    def _me(self) -> None:
        token = self._ensure_token()
        if token:
            self._client.me(self._send, token)

    def _message(self) -> None:
        token = self._ensure_token()
        if token:
            self._client.message(self._send, token, self._username, TAG)

    def _list(self) -> None:
        token = self._ensure_token()
        if token:
            self._client.list_messages(self._send, token, TAG)

    def _push(self) -> None:
        token = self._ensure_token()
        if not token:
            return
        delivery_id = self._client.push(self._send, token, self._username, TAG)
        if delivery_id:
            self._pushes.append((time.monotonic(), delivery_id))
        self._drain_pushes(final=False)

    def _drain_pushes(self, *, final: bool) -> None:
        """Read back and delete deliveries old enough to be settled."""
        import requests

        while self._pushes and (final or self._pushes[0][0] < time.monotonic() - 1.0):
            _, delivery_id = self._pushes.popleft()
            try:
                self._client.settle_push(self._send, self._token, delivery_id)
            except requests.RequestException:
                if final:
                    return

    def _upload(self) -> None:
        token = self._ensure_token()
        if token:
            self._client.upload(self._send, token, self._rng.randbytes(1024), TAG)
