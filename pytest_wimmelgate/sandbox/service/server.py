"""The sandbox backend process: a threaded HTTP server around `App`.

Run ``python -m pytest_wimmelgate.sandbox.service.server [--host H] [--port P]``; settings come
from environment variables (see `BackendSettings.from_env`). A bad setting or fault spec
ends the process at once with exit status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import IO, cast
from urllib.parse import parse_qsl, urlsplit

from pytest_wimmelgate.sandbox.service.api import App, Request
from pytest_wimmelgate.sandbox.service.backend_settings import BackendSettings
from pytest_wimmelgate.sandbox.service.service import TRAFFIC_USER, traffic_password

MAX_BODY = 20 * 1024 * 1024
SEED_RETRY_S = 0.1
PORT_POLL_S = 0.02
SEED_BEFORE_SERVING_S = 3.0


class BackendServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to ``app``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wimmelwelt-sandbox"
    # Headers and body go out in separate writes; with Nagle's algorithm on, a client
    # that delays its ACKs waits ~40 ms for every keep-alive answer.
    disable_nagle_algorithm = True
    timeout = 30

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Silence http.server's stderr lines; the app writes JSON access logs."""

    def _serve(self) -> None:
        app = cast(BackendServer, self.server).app
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._reject(411, b'{"error":"Content-Length required"}')
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._reject(400, b'{"error":"bad Content-Length"}')
            return
        if length < 0 or length > MAX_BODY:
            self._reject(413, b'{"error":"body too large"}')
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            request_id=_clean(headers.get("x-request-id"), 64) or uuid.uuid4().hex,
            run_id=_clean(headers.get("x-wimmelgate-run"), 128),
        )
        response = app.handle(request)
        try:
            self.send_response(response.status)
            if response.status != 204:  # a 204 carries neither body nor length
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if response.status != 204:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reject(self, status: int, body: bytes) -> None:
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _clean(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    text = "".join(ch for ch in value if ch.isprintable())[:limit]
    return text or None


def _wait_for_port(uri: str, bound_s: float) -> bool:
    """Until the database named by ``uri`` accepts connections (started at the same time
    as this process); False after ``bound_s`` or for a URI with several hosts."""
    import pymongo  # noqa: F401  (imported meanwhile)

    try:
        split = urlsplit(uri)
        host, port = split.hostname or "127.0.0.1", split.port or 27017
    except ValueError:
        return False
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(PORT_POLL_S)
    return False


def serve(settings: BackendSettings) -> int:
    """Build the backend, serve until SIGTERM/SIGINT, clean up; the exit status."""
    from pytest_wimmelgate.sandbox.service.database import Database
    from pytest_wimmelgate.sandbox.service.instruments import Metrics
    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog
    from pytest_wimmelgate.sandbox.service.push import PushDispatcher
    from pytest_wimmelgate.sandbox.service.storage import make_storage
    from pytest_wimmelgate.sandbox.service.traffic import TrafficGenerator

    stream: IO[str] = sys.stdout
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open(settings.log_file, "a", encoding="utf-8")  # noqa: SIM115
    metrics = Metrics(settings.version, settings.commit)
    log = JsonLog(
        stream,
        level=settings.log_level,
        static={"service": "wimmelwelt-backend", "version": settings.version},
        on_line=lambda level: metrics.log_lines.labels(level=level).inc(),
    )
    storage = make_storage(settings, metrics)  # while the database may still be starting
    # a client whose first connection is refused tries again only after its heartbeat (0.5 s)
    _wait_for_port(settings.mongodb_uri, SEED_BEFORE_SERVING_S)
    db = Database(settings.mongodb_uri, metrics)
    push = PushDispatcher(
        db, metrics, log, delay_s=settings.push_delay_s, failure_rate=settings.faults.push_failure_rate
    )
    app = App(settings, db=db, storage=storage, push=push, metrics=metrics, log=log)
    try:
        server = BackendServer((settings.host, settings.port), app)
    except OSError as exc:
        print(f"wimmelwelt-sandbox: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        db.close()
        return 1
    stopping = threading.Event()
    base_url = f"http://{settings.host}:{server.server_port}"
    traffic = TrafficGenerator(
        base_url,
        rps=settings.traffic_rps,
        username=TRAFFIC_USER,
        password=traffic_password(settings.auth_secret),
        log=log,
        rng=random.Random(),
        client=app.dialect.traffic_client(),
    )

    def seed(give_up_at: float) -> bool:
        """Seed the users, retrying while the database is not there yet."""
        while not stopping.is_set():
            try:
                app.seed_users()
            except Exception as exc:
                log.warning("seeding users failed, retrying", error=exc.__class__.__name__)
                if time.monotonic() >= give_up_at:
                    return False
                stopping.wait(SEED_RETRY_S)
                continue
            log.info("users seeded")
            traffic.start()
            return True
        return False

    def shut_down() -> None:
        traffic.stop()  # first: its last requests still need the server
        server.shutdown()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=shut_down, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    push.start()
    # seed before serving, so a client that sees /health 200 can log in; a database that
    # is not up yet must not keep the server down: then keep trying in the background
    if not seed(time.monotonic() + SEED_BEFORE_SERVING_S):
        threading.Thread(target=seed, args=(float("inf"),), name="seed-users", daemon=True).start()
    log.info(
        "backend listening",
        url=base_url,
        storage=settings.storage_mode,
        dialect=settings.dialect,
        faults=settings.faults.spec() or None,
        database=settings.database_name,
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        stopping.set()
        traffic.stop()
        push.stop()
        server.server_close()
        app.close()
        db.close()
        log.info("backend stopped")
        if stream is not sys.stdout:
            stream.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_wimmelgate.sandbox.service.server", description="The reference Wimmelwelt backend."
    )
    parser.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="listen port (0: any free)")
    args = parser.parse_args(argv)
    try:
        settings = BackendSettings.from_env(os.environ, host=args.host, port=args.port)
    except ValueError as exc:
        print(f"wimmelwelt-sandbox: {exc}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
