"""HTTP plumbing shared by every probe: a deadline for the whole call, and failures mapped to categories.

`call` bounds connect, send and the *whole* answer (status line, headers, body) by its
``timeout``: a read timeout alone restarts with every byte, so a server that drips one byte
per second would hold a check for as long as it likes. The session `call` uses gets a
`DeadlineAdapter`, whose connections read every byte of an answer against one monotonic
deadline (the socket timeout before each read is the time left). Connection reuse is kept.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.timeout import Timeout

from pytest_wimmelgate.errors import Category, ProbeError

DEFAULT_TIMEOUT_S = 5.0


class AnswerDeadline(TimeoutError):
    """The deadline for a whole answer passed while it was still arriving."""


class _DeadlineSocket:
    """A socket's stand-in while an answer is read: each read waits at most the time left.

    Files made from it (http.client reads the answer through one) keep the real socket
    open until they are closed, as `socket.makefile` does.
    """

    def __init__(self, sock: Any, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._files = 0
        self._close_pending = False

    def makefile(self, mode: str = "rb", buffering: int = -1, **_: Any) -> Any:
        import io

        self._files += 1
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw, buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE)

    def recv_into(self, buffer: Any, *args: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise AnswerDeadline("no complete answer before the deadline")
        self._sock.settimeout(remaining)
        try:
            return int(self._sock.recv_into(buffer, *args))
        except TimeoutError:
            raise AnswerDeadline("no complete answer before the deadline") from None

    def _decref_socketios(self) -> None:
        self._files -= 1
        if self._close_pending and self._files <= 0:
            self._sock.close()

    def close(self) -> None:
        if self._files > 0:
            self._close_pending = True
        else:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _WholeAnswerDeadline:
    """Connection mixin: the answer is read against ``now + timeout`` (urllib3 sets ``timeout``
    to the time left of a ``Timeout(total=...)`` before it reads the answer)."""

    sock: Any
    timeout: Any

    def getresponse(self) -> Any:
        real = self.sock
        if real is None or not isinstance(self.timeout, int | float):
            return super().getresponse()  # type: ignore[misc]
        view = _DeadlineSocket(real, time.monotonic() + float(self.timeout))
        self.sock = view
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            if self.sock is view:
                self.sock = real


class _HTTPConnection(_WholeAnswerDeadline, HTTPConnection):
    pass


class _HTTPSConnection(_WholeAnswerDeadline, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with whole-answer deadlines: a number as ``timeout`` bounds the whole call."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if isinstance(timeout, int | float):
            timeout = Timeout(total=float(timeout))
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)


def with_deadlines(session: requests.Session) -> requests.Session:
    """Give ``session`` deadline adapters in place of requests' default ones (idempotent)."""
    for prefix in ("https://", "http://"):
        current = session.adapters.get(prefix)
        if current is None or type(current) is HTTPAdapter:
            if current is not None:
                current.close()
            session.mount(prefix, DeadlineAdapter())
    return session


@dataclass(frozen=True)
class HttpAnswer:
    """A completed HTTP exchange, kept small enough to attach as evidence."""

    method: str
    url: str
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed_s: float

    def json(self) -> Any:
        """The body as JSON; a malformed body is a failed probe, not a crash."""
        import json

        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ProbeError(
                Category.INFRASTRUCTURE,
                f"{self.method} {self.url}: answer is not JSON ({exc.__class__.__name__})",
                {"status": self.status, "body": self.body[:500].decode("utf-8", "replace")},
            ) from None

    def evidence(self) -> dict[str, Any]:
        return {
            "request": f"{self.method} {self.url}",
            "status": self.status,
            "elapsed_ms": round(self.elapsed_s * 1000, 1),
            "body": self.body[:2000].decode("utf-8", "replace"),
        }


def call(
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    expect: tuple[int, ...] | None = (200,),
    what: str = "",
    **kwargs: Any,
) -> HttpAnswer:
    """Make one request within ``timeout`` seconds in all and map every failure to a `ProbeError`.

    Connection errors, a passed deadline and 5xx answers are ``infrastructure unreachable``;
    401/403 are ``configuration missing`` (credentials rejected); any other status outside
    ``expect`` is a ``product defect``. ``expect=None`` accepts any status. A ``session``
    is equipped with `DeadlineAdapter` (`with_deadlines`); without one, a fresh one is used.
    """
    label = what or f"{method} {url}"
    if session is None:
        with requests.Session() as fresh:
            return call(method, url, session=fresh, timeout=timeout, expect=expect, what=what, **kwargs)
    with_deadlines(session)
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectTimeout:
        raise ProbeError(
            Category.INFRASTRUCTURE, f"{label}: unreachable (no connection within {timeout:g} s)"
        ) from None
    except requests.RequestException as exc:
        if isinstance(exc, requests.Timeout) or _deadline_passed(exc, started, timeout):
            raise ProbeError(Category.INFRASTRUCTURE, f"{label}: no complete answer within {timeout:g} s") from None
        if isinstance(exc, requests.ConnectionError):
            raise ProbeError(Category.INFRASTRUCTURE, f"{label}: unreachable ({_short(exc)})") from None
        raise ProbeError(Category.INFRASTRUCTURE, f"{label}: {_short(exc)}") from None
    answer = HttpAnswer(
        method=method,
        url=url,
        status=response.status_code,
        body=response.content,
        headers=dict(response.headers),
        elapsed_s=response.elapsed.total_seconds(),
    )
    if expect is None or answer.status in expect:
        return answer
    if answer.status in (401, 403):
        category = Category.CONFIG
        problem = f"credentials rejected (HTTP {answer.status})"
    elif answer.status >= 500:
        category = Category.INFRASTRUCTURE
        problem = f"server error HTTP {answer.status}"
    else:
        category = Category.PRODUCT
        problem = f"HTTP {answer.status}, expected {'/'.join(map(str, expect))}"
    raise ProbeError(category, f"{label}: {problem}", answer.evidence())


def _deadline_passed(exc: BaseException, started: float, timeout: float) -> bool:
    """True when ``exc`` comes from `AnswerDeadline` (requests wraps it two levels deep)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, AnswerDeadline):
            return True
        todo.extend(e for e in (current.__cause__, current.__context__, *current.args) if isinstance(e, BaseException))
    return time.monotonic() - started >= timeout


def _short(exc: Exception) -> str:
    """A one-line cause without the nested repr noise of urllib3."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "reset by peer"):
        if marker in text:
            return marker.lower()
    return exc.__class__.__name__


def json_body(answer: HttpAnswer, label: str) -> Any:
    """The body as JSON; a malformed body names the system and request that sent it."""
    try:
        return answer.json()
    except ProbeError as exc:
        raise ProbeError(exc.category, f"{label}: HTTP {answer.status} answer is not JSON", exc.evidence) from None


def shape_error(answer: HttpAnswer, label: str, expected: str) -> ProbeError:
    """A well-formed answer of the wrong shape: the system is not what the probe expects."""
    return ProbeError(
        Category.INFRASTRUCTURE, f"{label}: HTTP {answer.status} answer is not {expected}", answer.evidence()
    )


@contextmanager
def secrets_kept(secrets: Sequence[str]) -> Iterator[None]:
    """Re-raise any `ProbeError` with the secrets masked in its reason and evidence."""
    from pytest_wimmelgate.config.secrets import SecretSet

    hidden = SecretSet.of(secrets)
    try:
        yield
    except ProbeError as exc:
        raise ProbeError(exc.category, hidden.redact(exc.reason), hidden.redact_tree(exc.evidence)) from None
