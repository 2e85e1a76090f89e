"""Readiness probes the launcher polls while starting components (short timeouts)."""

from __future__ import annotations

import socket
from typing import Any

HTTP_TIMEOUT_S = 1.0


def tcp_open(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """True once something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_status(url: str) -> int | None:
    """The status of a GET, or None when nothing answered."""
    import requests

    try:
        return requests.get(url, timeout=HTTP_TIMEOUT_S).status_code
    except requests.RequestException:
        return None


def http_ok(url: str) -> bool:
    return http_status(url) == 200


def http_answers(url: str) -> bool:
    return http_status(url) is not None


def mongo_client(uri: str) -> Any:
    """A client with timeouts short enough for polling."""
    from pymongo import MongoClient

    return MongoClient(
        uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500, timeoutMS=1000, appname="wimmelgate-sandbox-launcher"
    )


def mongo_pings(client: Any) -> bool:
    """One ``ping``. Poll `tcp_open` first: a client whose first connection was refused
    checks again only after its heartbeat (0.5 s)."""
    from pymongo.errors import PyMongoError

    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    return True


def s3_client(endpoint: str, region: str, key_id: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}),
    )


def ensure_bucket(client: Any, bucket: str, region: str) -> None:
    """Create ``bucket`` unless it exists (idempotent across restarts)."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError:
        pass
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
