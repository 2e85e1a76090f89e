"""Fixtures for probe tests: a server that misbehaves in every way a dependency can.

``failure`` is parametrised over the failure modes every probe must turn into a
`ProbeError` with the right category and a one-line, secret-free reason: 401, 403, 5xx,
a timeout, a refused connection, a malformed JSON body and JSON of the wrong shape.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError

#: Short enough to keep the suite fast, long enough for a loopback answer.
SHORT_TIMEOUT_S = 0.3

FAILURES: dict[str, Category] = {
    "unauthorized": Category.CONFIG,
    "forbidden": Category.CONFIG,
    "server_error": Category.INFRASTRUCTURE,
    "timeout": Category.INFRASTRUCTURE,
    "refused": Category.INFRASTRUCTURE,
    "malformed_json": Category.INFRASTRUCTURE,
    "wrong_shape": Category.INFRASTRUCTURE,
}


@dataclass
class Failure:
    """One failure mode, installed on the test's server by :meth:`serve`."""

    name: str
    category: Category
    httpserver: HTTPServer
    closed_url: str
    release: threading.Event = field(default_factory=threading.Event)
    timeout: float = SHORT_TIMEOUT_S
    base: str = ""

    def serve(
        self,
        path: str,
        method: str = "GET",
        *,
        secret: str = "",
        wrong_shape: Any = None,
    ) -> str:
        """Answer ``method path`` in this failure's way; return the base URL to probe.

        Error bodies echo ``secret`` (as careless proxies do) so the tests prove the
        probe scrubs it from reason and evidence.
        """
        if self.name == "refused":
            self.base = self.closed_url
            return self.base
        expectation = self.httpserver.expect_request(path, method=method)
        echo = f"invalid credentials {secret}".strip()
        if self.name == "unauthorized":
            expectation.respond_with_json({"error": {"message": echo}}, status=401)
        elif self.name == "forbidden":
            expectation.respond_with_json({"error": {"message": echo}}, status=403)
        elif self.name == "server_error":
            expectation.respond_with_data(f"upstream failed ({echo})", status=503)
        elif self.name == "timeout":
            expectation.respond_with_handler(self._slow)
        elif self.name == "malformed_json":
            expectation.respond_with_data('{"truncated": [', status=200, content_type="application/json")
        elif self.name == "wrong_shape":
            body = {"unexpected": True} if wrong_shape is None else wrong_shape
            expectation.respond_with_json(body)
        self.base = self.httpserver.url_for("").rstrip("/")
        return self.base

    def _slow(self, request: Request) -> Response:
        self.release.wait(5)  # released at teardown, long after the client gave up
        return Response("{}", status=200, content_type="application/json")

    def check(self, error: ProbeError, *secrets: str) -> None:
        """Right category, one line, names the endpoint, no secret anywhere."""
        __tracebackhide__ = True
        assert error.category is self.category, f"{self.name}: {error}"
        text = str(error)
        assert "\n" not in text and text.strip() == text
        assert urlsplit(self.base).netloc in error.reason, error.reason
        assert_no_secret(error, *secrets)


def assert_no_secret(error_or_evidence: Any, *secrets: str) -> None:
    __tracebackhide__ = True
    if isinstance(error_or_evidence, ProbeError):
        blobs = [str(error_or_evidence), repr(error_or_evidence), _dump(error_or_evidence.evidence)]
    else:
        blobs = [_dump(error_or_evidence)]
    for secret in secrets:
        for blob in blobs:
            assert secret not in blob, f"secret leaked into {blob[:300]}"


def _dump(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens: connection refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(params=list(FAILURES))
def failure(request: pytest.FixtureRequest, httpserver: HTTPServer, closed_url: str) -> Iterator[Failure]:
    """Each way a dependency fails, installed on demand with ``failure.serve(path)``."""
    mode = Failure(request.param, FAILURES[request.param], httpserver, closed_url)
    yield mode
    mode.release.set()


@pytest.fixture
def no_secret() -> Any:
    """``no_secret(error_or_evidence, *secrets)`` asserts none of the secrets shows."""
    return assert_no_secret
