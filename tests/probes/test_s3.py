"""The one S3 client factory against a real S3 (moto server) and against servers that
refuse, hang or drip: every call ends within its bound with a categorised reason."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import s3
from pytest_wimmelgate.probes.s3 import S3Location
from tests.domain.conftest import S3Server, free_port, s3_server, unique  # noqa: F401  (fixtures)


@pytest.fixture
def bucket(s3_server: S3Server, unique: str) -> str:  # noqa: F811
    return s3_server.bucket(unique)


def location(server: S3Server, bucket: str, **extra: Any) -> S3Location:
    return S3Location(bucket, "p/", server.endpoint_url, server.region, **extra)


def client(server: S3Server, where: S3Location) -> Any:
    environ = {"KEY_ID": server.access_key, "KEY_SECRET": server.secret_key}
    return s3.client_from_environ(where, environ, "KEY_ID", "KEY_SECRET")


def test_lists_heads_and_reads_with_keys_from_named_variables(s3_server: S3Server, bucket: str) -> None:  # noqa: F811
    s3_server.client().put_object(Bucket=bucket, Key="p/a.json", Body=b'{"x": 1}', Metadata={"Backup-Time": "t"})
    s3_server.client().put_object(Bucket=bucket, Key="q/b.json", Body=b"other prefix")
    where = location(s3_server, bucket)
    c = client(s3_server, where)
    listed = s3.list_objects(c, where)
    assert [(o.key, o.size) for o in listed] == [("p/a.json", 8)]
    assert listed[0].last_modified.tzinfo is not None
    assert s3.object_metadata(c, where, "p/a.json") == {"backup-time": "t"}
    assert s3.read_object(c, where, "p/a.json") == b'{"x": 1}'
    assert s3.object_size(c, where, "p/a.json") == 8


def test_listing_follows_continuation_pages(s3_server: S3Server, bucket: str) -> None:  # noqa: F811
    raw = s3_server.client()
    for i in range(1005):  # one page holds at most 1000 keys
        raw.put_object(Bucket=bucket, Key=f"p/{i:05d}", Body=b"x")
    assert len(s3.list_objects(client(s3_server, location(s3_server, bucket)), location(s3_server, bucket))) == 1005


def test_an_object_over_the_size_limit_is_refused(s3_server: S3Server, bucket: str) -> None:  # noqa: F811
    s3_server.client().put_object(Bucket=bucket, Key="p/big", Body=b"x" * 2048)
    where = location(s3_server, bucket)
    with pytest.raises(ProbeError) as info:
        s3.read_object(client(s3_server, where), where, "p/big", limit=1024)
    assert info.value.category is Category.INFRASTRUCTURE
    assert "larger than 1024 bytes" in info.value.reason


def test_missing_bucket_and_wrong_keys_are_configuration(s3_server: S3Server) -> None:  # noqa: F811
    where = location(s3_server, "no-such-bucket-s3-probe")
    with pytest.raises(ProbeError) as info:
        s3.list_objects(client(s3_server, where), where)
    assert info.value.category is Category.CONFIG
    assert info.value.reason == f"list s3://no-such-bucket-s3-probe/p/ at {s3_server.endpoint_url}: NoSuchBucket"


def test_refused_connection_ends_within_the_bound() -> None:
    where = S3Location("b", "p/", f"http://127.0.0.1:{free_port()}", "eu-central-1", timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ProbeError) as info:
        s3.list_objects(s3.s3_client(where, "k", "s"), where)
    assert time.monotonic() - started < where.request_deadline_s + 1
    assert info.value.category is Category.INFRASTRUCTURE
    assert info.value.reason.endswith(": EndpointConnectionError")


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """Accepts, sends an HTTP status line, then one byte every 0.2 s: a read timeout of
    0.5 s never fires, only a whole-answer deadline ends the request."""
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n")
                while not stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(0.2)
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def test_a_dripping_server_fails_at_the_whole_answer_deadline(dripping_server: str) -> None:
    where = S3Location("b", "p/", dripping_server, "eu-central-1", timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ProbeError) as info:
        s3.list_objects(s3.s3_client(where, "k", "s"), where)
    waited = time.monotonic() - started
    assert where.request_deadline_s <= waited < where.request_deadline_s + 1
    assert info.value.category is Category.INFRASTRUCTURE
    assert info.value.reason == f"list s3://b/p/ at {dripping_server}: no complete answer within 2 s"
