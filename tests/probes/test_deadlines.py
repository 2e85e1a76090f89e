"""Every HTTP call has a deadline for the whole answer, not only for each read.

Real socket servers on 127.0.0.1 misbehave the way a wedged proxy or an overloaded
Prometheus does: one sends its headers and then one body byte per second, one drips the
status line itself, one accepts and never answers. Each probe ends within its timeout (plus
scheduling slack) with ``[infrastructure unreachable] … no complete answer within T s``;
before, the drip held a probe for as long as the body lasted (one read timeout per byte).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import (
    alertmanager,
    elasticsearch,
    grafana,
    http,
    kibana,
    otlp,
    pagerduty,
    prometheus,
    statuspage,
)

TIMEOUT_S = 1.0
SLACK_S = 1.5  # scheduling on a loaded 2-core machine; the old behaviour took 60 s and more
BODY_BYTES = 60


class MisbehavingServer:
    """A TCP server whose every connection is handled by ``behaviour(conn, stop)``."""

    def __init__(self, behaviour: Callable[[socket.socket, threading.Event], None]) -> None:
        self._behaviour = behaviour
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self._behaviour(conn, self._stop)
            except OSError:
                pass  # the client gave up and closed: what we want

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


def _drip_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {BODY_BYTES}\r\n\r\n".encode())
    for _ in range(BODY_BYTES):
        if stop.wait(1.0):
            return
        conn.sendall(b" ")


def _drip_status_line(conn: socket.socket, stop: threading.Event) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
        conn.sendall(bytes([byte]))
        if stop.wait(0.5):
            return


def _never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(120)


BEHAVIOURS = {"drip_body": _drip_body, "drip_status_line": _drip_status_line, "never_answer": _never_answer}


@pytest.fixture(params=list(BEHAVIOURS))
def misbehaving(request: pytest.FixtureRequest) -> Iterator[MisbehavingServer]:
    server = MisbehavingServer(BEHAVIOURS[request.param])
    yield server
    server.close()


@pytest.fixture
def dripping() -> Iterator[MisbehavingServer]:
    server = MisbehavingServer(_drip_body)
    yield server
    server.close()


def _timed(probe: Callable[[], Any]) -> tuple[ProbeError, float]:
    started = time.monotonic()
    with pytest.raises(ProbeError) as caught:
        probe()
    return caught.value, time.monotonic() - started


def test_call_ends_within_its_timeout_whatever_the_server_does(misbehaving: MisbehavingServer) -> None:
    error, elapsed = _timed(lambda: http.call("GET", f"{misbehaving.url}/api/v1/query", timeout=TIMEOUT_S))
    assert elapsed < TIMEOUT_S + SLACK_S, f"the call took {elapsed:.1f} s with a {TIMEOUT_S:g} s timeout"
    assert error.category is Category.INFRASTRUCTURE
    assert error.reason == f"GET {misbehaving.url}/api/v1/query: no complete answer within {TIMEOUT_S:g} s"


def test_a_session_reused_after_a_deadline_still_works(dripping: MisbehavingServer, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok").respond_with_json({"fine": True})
    with requests.Session() as session:
        with pytest.raises(ProbeError, match="no complete answer"):
            http.call("GET", f"{dripping.url}/slow", session=session, timeout=TIMEOUT_S)
        for _ in range(3):
            answer = http.call("GET", httpserver.url_for("/ok"), session=session, timeout=TIMEOUT_S)
            assert answer.json() == {"fine": True}


def test_keep_alive_closing_and_chunked_answers_arrive_whole(httpserver: HTTPServer) -> None:
    big = "x" * 300_000
    httpserver.expect_request("/big").respond_with_data(big)
    httpserver.expect_request("/close").respond_with_data("bye", headers={"Connection": "close"})
    httpserver.expect_request("/chunked").respond_with_response(Response(iter([b"a" * 5000, b"b" * 5000]), status=200))
    with requests.Session() as session:
        assert http.call("GET", httpserver.url_for("/big"), session=session).body == big.encode()
        assert http.call("GET", httpserver.url_for("/close"), session=session).body == b"bye"
        assert http.call("GET", httpserver.url_for("/chunked"), session=session).body == b"a" * 5000 + b"b" * 5000
        assert http.call("GET", httpserver.url_for("/big"), session=session).body == big.encode()


def test_refused_connection_is_still_unreachable_at_once() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/x"
    error, elapsed = _timed(lambda: http.call("GET", url, timeout=TIMEOUT_S))
    assert error.reason == f"GET {url}: unreachable (connection refused)"
    assert elapsed < TIMEOUT_S


PROBES: dict[str, Callable[[str], Any]] = {
    "prometheus": lambda url: prometheus.query(url, "up", timeout=TIMEOUT_S),
    "alertmanager": lambda url: alertmanager.active_alerts(url, timeout=TIMEOUT_S),
    "pagerduty": lambda url: pagerduty.oncall_now(url, "PSCHED1", token="t0ken", timeout=TIMEOUT_S),
    "statuspage": lambda url: statuspage.incident_templates(
        url, "page1", ["API-Störung"], token="t", timeout=TIMEOUT_S
    ),
    "grafana": lambda url: grafana.dashboards_load(url, ["Backend / API"], token="t0ken", timeout=TIMEOUT_S),
    "elasticsearch": lambda url: elasticsearch.count_recent(url, "backend-staging-*", timeout=TIMEOUT_S),
    "kibana": lambda url: kibana.saved_searches(url, ["Auth 401/429"], timeout=TIMEOUT_S),
    "otlp": lambda url: otlp.check_export(url, "authorization=Bearer t0ken", timeout=TIMEOUT_S),
}


@pytest.mark.parametrize("name", list(PROBES))
def test_every_probe_gives_up_on_a_dripping_server_within_its_timeout(name: str, dripping: MisbehavingServer) -> None:
    error, elapsed = _timed(lambda: PROBES[name](dripping.url))
    assert elapsed < TIMEOUT_S + SLACK_S, f"{name} took {elapsed:.1f} s with a {TIMEOUT_S:g} s timeout"
    assert error.category is Category.INFRASTRUCTURE, error
    assert f"no complete answer within {TIMEOUT_S:g} s" in error.reason, error.reason
