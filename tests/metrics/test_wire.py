"""The sampler's lean HTTP/1.1 client against a real threaded HTTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_wimmelgate.metrics import wire


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "999")
        self.end_headers()

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self._plain(201, data[::-1])

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"no length given")
            self.close_connection = True
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "20")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._plain(200, b"after 100")
        elif self.path == "/idle-close":
            self._plain(200, b"bye")
            self.close_connection = True  # closes without saying so, as an idle timeout does
        else:
            self._plain(200, f"{self.path} {self.headers.get('X-Test', '')}".encode())

    def _plain(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def fetch(conns: wire.Connections, url: str, method: str = "GET", body: bytes | None = None, timeout: float = 5):
    request = wire.prepare(method, url, {"X-Test": "yes"}, body)
    conns.ready(request)
    return conns.exchange(request, time.perf_counter() + timeout)


def test_lengths_chunks_head_and_bodies_are_read_whole(server: str) -> None:
    conns = wire.Connections(5)
    try:
        assert fetch(conns, server + "/plain?q=1") == (200, b"/plain?q=1 yes")
        assert fetch(conns, server + "/chunked") == (200, b"hello chunked world")
        assert fetch(conns, server + "/x", "HEAD") == (200, b"")  # a HEAD answer has no body
        assert fetch(conns, server + "/echo", "POST", b"abc") == (201, b"cba")
        assert fetch(conns, server + "/continue") == (200, b"after 100")
        assert fetch(conns, server + "/until-close") == (200, b"no length given")
        assert fetch(conns, server + "/plain") == (200, b"/plain yes")  # on a new connection
    finally:
        conns.close()


def test_a_connection_the_server_closed_while_idle_is_opened_again(server: str) -> None:
    conns = wire.Connections(5)
    try:
        assert fetch(conns, server + "/idle-close") == (200, b"bye")
        time.sleep(0.1)
        assert fetch(conns, server + "/plain") == (200, b"/plain yes")
    finally:
        conns.close()


def test_the_deadline_bounds_the_whole_answer_not_each_read(server: str) -> None:
    conns = wire.Connections(5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(conns, server + "/drip", timeout=0.5)  # each byte comes within 0.2 s, the whole takes 4 s
    assert time.monotonic() - started < 2
    conns.close()


def test_only_http_urls_are_prepared() -> None:
    with pytest.raises(ValueError):
        wire.prepare("GET", "ftp://example.invalid/x", {})
    request = wire.prepare("GET", "https://user:pw@example.invalid/a?b=1", {})
    assert request.data.startswith(b"GET /a?b=1 HTTP/1.1\r\nHost: example.invalid\r\n")
    assert (request.scheme, request.port) == ("https", 443)
