"""Synthetic traffic: what a real environment gets, sent to the backend until stopped.

Three sources, as a deployed backend sees them:

- the users' request mix, at about ``rps`` requests per second (one thread);
- readiness probes, as an orchestrator sends them to every pod every few seconds:
  `READINESS_PROBES_PER_S` in all, whatever the users do;
- push notifications the app sends on its own (reminders, fan-out): `PUSHES_PER_S`.

The probes and pushes are `SteadyStream`\\ s on their own clock: a slow backend (a latency
fault) does not slow them down, so a ratio such as readiness failures always rests on
enough events. ``rps`` 0 turns all three off (a quiet sandbox).

Everything the traffic creates is tagged ``traffic`` and deleted again, and it keeps at
most one session open (a new login ends the previous session); faults of the backend act
on it like on any client. The mix is the same in every API dialect; a `TrafficClient`
(from the dialect) says how each action is sent.
"""

from __future__ import annotations

import concurrent.futures
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
#: the users' mix (readiness probes and pushes come from their own streams)
WEIGHTS = {
    "health": 8,
    "me": 20,
    "login": 8,
    "bad_login": 3,
    "message": 25,
    "list": 6,
    "upload": 6,
}
#: readiness probes per second: an orchestrator probing a few pods every few seconds
READINESS_PROBES_PER_S = 10.0
#: push notifications per second the app sends on its own
PUSHES_PER_S = 10.0
#: a stream's requests in flight at most (more due while all are busy: that tick is skipped)
STREAM_WORKERS = 16
#: a delivery is read back and deleted once it is this old (the backend settles it sooner)
SETTLE_AFTER_S = 0.5


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


class SteadyStream:
    """``action`` at ``rate_per_s``, on its own clock, from up to `STREAM_WORKERS` threads.

    A tick whose every worker is still busy is skipped (a dead backend is not queued up
    against); ``log`` records a failed action.
    """

    def __init__(self, name: str, rate_per_s: float, action: Callable[[], None], log: JsonLog) -> None:
        self.name = name
        self._period = 1.0 / rate_per_s
        self._action = action
        self._log = log
        self._stop = threading.Event()
        self._busy = threading.Semaphore(STREAM_WORKERS)
        self._pool = concurrent.futures.ThreadPoolExecutor(STREAM_WORKERS, thread_name_prefix=f"traffic-{name}")
        self._thread = threading.Thread(target=self._run, name=f"traffic-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No new action; waits for those under way (each bounded by `TIMEOUT_S`)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_S + 1)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            if self._busy.acquire(blocking=False):
                try:
                    self._pool.submit(self._once)
                except RuntimeError:  # shut down meanwhile
                    self._busy.release()
                    return
            next_at = max(next_at + self._period, time.monotonic() - 1.0)

    def _once(self) -> None:
        import requests

        try:
            self._action()
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            self._log.debug("traffic request failed", action=self.name, error=exc.__class__.__name__)
        finally:
            self._busy.release()


class TrafficGenerator:
    """The users' mix at about ``rps`` requests per second, plus the readiness probes and
    pushes of their own streams, to ``base_url`` until stopped.

    Each step of the mix is one action (some take several requests, e.g. send, read and
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
        probes_per_s: float = READINESS_PROBES_PER_S,
        pushes_per_s: float = PUSHES_PER_S,
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
        self._local = threading.local()  # each thread's requests.Session and request count
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._token_lock = threading.RLock()
        self._token = ""
        self._pushes: deque[tuple[float, str]] = deque()
        self._streams = [
            SteadyStream(name, rate, action, log)
            for name, rate, action in (
                ("readiness", probes_per_s, lambda: self._client.readiness(self._send)),
                ("push", pushes_per_s, self._push),
            )
            if rate > 0
        ]
        self._actions: dict[str, Callable[[], None]] = {
            "health": lambda: self._client.health(self._send),
            "me": self._me,
            "login": self._login,
            "bad_login": self._bad_login,
            "message": self._message,
            "list": self._list,
            "upload": self._upload,
        }

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()
            for stream in self._streams:
                stream.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_S + 1)
        for stream in self._streams:
            stream.stop()
        if self._interval > 0:
            with contextlib.suppress(Exception):
                self._drain_pushes(final=True)
                self._end_session()
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _run(self) -> None:
        import requests

        names = list(WEIGHTS)
        weights = [WEIGHTS[n] for n in names]
        next_at = time.monotonic()
        while not self._stop.is_set():
            action = self._rng.choices(names, weights)[0]
            self._local.sent = 0
            try:
                self._actions[action]()
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                self._log.debug("traffic request failed", action=action, error=exc.__class__.__name__)
            steps = max(1, self._local.sent)
            next_at = max(next_at + steps * self._interval, time.monotonic() - 1.0)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _session(self) -> requests.Session:
        """This thread's session (requests' sessions are not shared between threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers.update({"X-Wimmelgate-Run": TAG, "User-Agent": "wimmelwelt-sandbox-traffic"})
            session.headers.update(self._client.common_headers())
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _send(self, method: str, path: str, *, token: str = "", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers.update(self._client.auth_headers(token))
        self._local.sent = getattr(self._local, "sent", 0) + 1
        url = self._base_url + path
        answer = self._session().request(method, url, headers=headers, timeout=TIMEOUT_S, **kwargs)
        if answer.status_code == 401 and token:
            with self._token_lock:
                if token == self._token:
                    self._token = ""
        return answer

    def _ensure_token(self) -> str:
        with self._token_lock:
            if not self._token:
                self._login()
            return self._token

    def _login(self) -> None:
        with self._token_lock:
            previous = self._token
            token = self._client.login(self._send, self._username, self._password)
            if token:
                self._token = token
                if previous:
                    self._client.logout(self._send, previous)

    def _end_session(self) -> None:
        import requests

        with self._token_lock:
            token, self._token = self._token, ""
        if token:
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
        """Read back and delete deliveries old enough to be settled (any thread)."""
        import requests

        while True:
            try:
                created, delivery_id = self._pushes.popleft()
            except IndexError:
                return
            if not final and created >= time.monotonic() - SETTLE_AFTER_S:
                self._pushes.appendleft((created, delivery_id))
                return
            try:
                self._client.settle_push(self._send, self._token, delivery_id)
            except requests.RequestException:
                if final:
                    return

    def _upload(self) -> None:
        token = self._ensure_token()
        if token:
            self._client.upload(self._send, token, self._rng.randbytes(1024), TAG)
