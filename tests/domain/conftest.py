"""Fixtures for the domain-module tests: a real S3 (moto server) and a real MongoDB
wire-protocol server (SecantusDB, started as a separate process, never imported)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

#: The gate's clock in these tests (a Saturday); never the wall clock.
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    region: str = "eu-central-1"
    access_key: str = "testing-access-key"
    secret_key: str = "testing-secret-key"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        return name

    @property
    def environ(self) -> dict[str, str]:
        """Process-style variables holding the credentials, for ``*_variable`` settings."""
        return {"BACKUP_AWS_ACCESS_KEY_ID": self.access_key, "BACKUP_AWS_SECRET_ACCESS_KEY": self.secret_key}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB server process (in-memory) for the whole session; its base URI."""
    exe = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    if not Path(exe).exists():
        pytest.fail("secantusd-py not found: install the sandbox extra (secantusdb)")
    work = tmp_path_factory.mktemp("secantus")
    config = work / "empty.toml"
    config.write_text("")
    port = free_port()
    log = (work / "secantus.log").open("wb")
    proc = subprocess.Popen(
        [
            exe,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--enable-test-commands",
            "--config",
            str(config),
        ],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"secantusd-py exited with {proc.returncode}; log: {work / 'secantus.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("secantusd-py did not listen within 20 s")
                time.sleep(0.05)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        # in-memory storage: nothing to flush, so do not wait for its 2 s graceful stop
        proc.terminate()
        try:
            proc.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A short name unique to this test, usable as bucket or database name."""
    import hashlib

    return "t" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
