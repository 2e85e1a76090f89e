"""A lean HTTP/1.1 client for the active sampler: the least work between send and answer.

A sampled latency should be what the server spends plus the loopback round trip, not
the client's own parsing (``http.client`` parses headers with the e-mail parser and adds
a millisecond or more on a loaded machine). Here a request is built once as bytes
(`prepare`), sent on a persistent socket opened before the clock starts, and the answer
is read with a deadline for the *whole* answer (each ``recv`` gets the time that is left):
status line, headers split by hand, the body by ``Content-Length``, chunked, or until
close. A reused connection the server closed while idle is opened again once.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

RECV_BYTES = 65536


class ClosedEarly(ConnectionError):
    """The server closed the connection before the answer was complete."""


@dataclass(frozen=True)
class Prepared:
    """One request as bytes, and where it goes."""

    scheme: str
    host: str
    port: int
    data: bytes
    head_only: bool

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def prepare(method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> Prepared:
    """The request line, headers and body of ``method url`` as the bytes to send."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
    given = {name.lower() for name in headers}
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None and "content-length" not in given:
        lines.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return Prepared(parts.scheme, parts.hostname, port, data, method.upper() == "HEAD")


class Connections:
    """Persistent sockets of one worker thread, one per host."""

    def __init__(self, connect_timeout: float) -> None:
        self._timeout = connect_timeout
        self._open: dict[tuple[str, str, int], socket.socket] = {}
        self._fresh: set[tuple[str, str, int]] = set()

    def ready(self, request: Prepared) -> None:
        """Open the connection for ``request`` unless one is open (outside the timed part)."""
        if request.key in self._open:
            return
        sock = socket.create_connection((request.host, request.port), timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if request.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=request.host)
        self._open[request.key] = sock
        self._fresh.add(request.key)

    def exchange(self, request: Prepared, deadline: float) -> tuple[int, bytes]:
        """Send ``request`` and read its whole answer by ``deadline`` (`time.perf_counter`)."""
        reused = request.key not in self._fresh
        self._fresh.discard(request.key)
        try:
            return self._exchange(request, deadline)
        except ClosedEarly as closed:
            self.drop(request)
            if not (reused and closed.args and closed.args[0] == 0):
                raise
        self.ready(request)  # the server had closed an idle connection: once more, on a new one
        self._fresh.discard(request.key)
        return self._exchange(request, deadline)

    def _exchange(self, request: Prepared, deadline: float) -> tuple[int, bytes]:
        sock = self._open[request.key]
        sock.settimeout(_left(deadline))
        sock.sendall(request.data)
        status, body, close = read_answer(sock, deadline, head_only=request.head_only)
        if close:
            self.drop(request)
        return status, body

    def drop(self, request: Prepared) -> None:
        sock = self._open.pop(request.key, None)
        if sock is not None:
            sock.close()

    def close(self) -> None:
        for sock in self._open.values():
            sock.close()
        self._open.clear()


def read_answer(sock: socket.socket, deadline: float, *, head_only: bool = False) -> tuple[int, bytes, bool]:
    """``(status, body, server closes)`` of one HTTP/1.x answer; 1xx answers are skipped."""
    buffer = bytearray()
    received = 0
    while True:
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            received += _recv(sock, buffer, deadline, received)
        head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        del buffer[: end + 4]
        version, _, rest = head[0].partition(" ")
        status = int(rest[:3])
        if not 100 <= status < 200:
            break
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
    if head_only or status in (204, 304):
        return status, b"", close
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, _chunked(sock, buffer, deadline), close
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(buffer) < length:
            received += _recv(sock, buffer, deadline, received)
        return status, bytes(buffer[:length]), close
    try:  # no length: the body ends when the server closes
        while True:
            received += _recv(sock, buffer, deadline, received)
    except ClosedEarly:
        return status, bytes(buffer), True


def _chunked(sock: socket.socket, buffer: bytearray, deadline: float) -> bytes:
    body = bytearray()
    while True:
        while (end := buffer.find(b"\r\n")) < 0:
            _recv(sock, buffer, deadline, 1)
        size = int(bytes(buffer[:end]).split(b";", 1)[0].strip() or b"0", 16)
        del buffer[: end + 2]
        if size == 0:
            while buffer.find(b"\r\n") != 0 and buffer.find(b"\r\n\r\n") < 0:
                _recv(sock, buffer, deadline, 1)  # trailers
            return bytes(body)
        while len(buffer) < size + 2:
            _recv(sock, buffer, deadline, 1)
        body += buffer[:size]
        del buffer[: size + 2]


def _recv(sock: socket.socket, buffer: bytearray, deadline: float, received: int) -> int:
    sock.settimeout(_left(deadline))
    data = sock.recv(RECV_BYTES)
    if not data:
        raise ClosedEarly(received)
    buffer += data
    return len(data)


def _left(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError("no complete answer in time")
    return left
