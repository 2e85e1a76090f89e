"""S3: the plugin's one S3 client factory and the reads the checks need (boto3).

A location names the bucket, prefix, endpoint (``endpoint_url``; AWS when absent) and
region; credentials come from the *names* of variables (``access_key_variable``,
``secret_key_variable``) looked up in the environ a caller passes; without them boto3's
standard chain applies.

Every call ends within a bound: connect and read timeouts of ``timeout_s`` each, at most
`MAX_ATTEMPTS` attempts per request (the first one included), and a whole-answer deadline
of `request_deadline_s` per request, so a server that accepts and then drips bytes fails
the check instead of holding it (a read timeout alone restarts with every byte). An object
body is read in chunks against the same deadline and at most `MAX_BODY_BYTES`.

Failures become `ProbeError` without quoting boto's messages (they may echo a request):
a missing bucket, refused or absent credentials → ``configuration missing``; anything else
→ ``infrastructure unreachable``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from pytest_wimmelgate.config.times import as_utc
from pytest_wimmelgate.errors import Category, ProbeError

DEFAULT_TIMEOUT_S = 5.0
MAX_ATTEMPTS = 2
MAX_BODY_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_CONFIG_CODES = frozenset({"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})

T = TypeVar("T")


@dataclass(frozen=True)
class S3Location:
    """A bucket and prefix, and how to reach it."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def request_deadline_s(self) -> float:
        """The bound on one request, retries included: each attempt may connect and read."""
        return MAX_ATTEMPTS * 2 * self.timeout_s


@dataclass(frozen=True)
class S3Object:
    """One listed object."""

    key: str
    size: int
    last_modified: datetime  # aware UTC


def s3_client(location: S3Location, access_key_id: str | None = None, secret_access_key: str | None = None) -> Any:
    """A boto3 S3 client with the bounds of this module; keys ``None`` = boto3's chain."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=location.timeout_s,
        read_timeout=location.timeout_s,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        signature_version="s3v4",
    )
    return boto3.client(
        "s3",
        endpoint_url=location.endpoint_url,
        region_name=location.region,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )


def client_from_environ(
    location: S3Location,
    environ: Mapping[str, str],
    access_key_variable: str | None = None,
    secret_key_variable: str | None = None,
) -> Any:
    """`s3_client` with the keys read from the named variables of ``environ``."""
    key = environ.get(access_key_variable) if access_key_variable else None
    secret = environ.get(secret_key_variable) if secret_key_variable else None
    return s3_client(location, key or None, secret or None)


def failure(exc: BaseException, action: str, location: S3Location) -> ProbeError:
    """A boto3/botocore exception as a `ProbeError` naming action and location, never its message."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = f"{action} {location}" + (f" at {location.endpoint_url}" if location.endpoint_url else "")
    if isinstance(exc, ProbeError):
        return exc
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "error"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        category = Category.CONFIG if code in _CONFIG_CODES or status in (401, 403, 404) else Category.INFRASTRUCTURE
        return ProbeError(category, f"{where}: {code}", {"code": code, "status": status})
    if isinstance(exc, NoCredentialsError):
        return ProbeError(Category.CONFIG, f"{where}: no AWS credentials configured")
    if isinstance(exc, BotoCoreError):
        return ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}")
    return ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}")


def _bounded(location: S3Location, action: str, call: Callable[[], T], seconds: float | None = None) -> T:
    """Run ``call`` with a whole-answer deadline; its errors become `ProbeError`."""
    limit = location.request_deadline_s if seconds is None else seconds
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"wimmelgate-s3-{action}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        where = f"{action} {location}" + (f" at {location.endpoint_url}" if location.endpoint_url else "")
        raise ProbeError(Category.INFRASTRUCTURE, f"{where}: no complete answer within {limit:g} s")
    if "error" in box:
        raise failure(box["error"], action, location) from None
    value: T = box["value"]
    return value


def list_objects(client: Any, location: S3Location) -> list[S3Object]:
    """Every object under the location's prefix, page by page (each page bounded)."""
    objects: list[S3Object] = []
    token: str | None = None
    while True:
        arguments: dict[str, Any] = {"Bucket": location.bucket, "Prefix": location.prefix}
        if token:
            arguments["ContinuationToken"] = token
        page: dict[str, Any] = _bounded(location, "list", partial(client.list_objects_v2, **arguments))
        for item in page.get("Contents", []) or []:
            objects.append(S3Object(str(item["Key"]), int(item.get("Size", 0)), as_utc(item["LastModified"])))
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        if not token:
            return objects


def object_metadata(client: Any, location: S3Location, key: str) -> dict[str, str]:
    """The user metadata of one object (``x-amz-meta-*`` without the prefix), keys lower-cased."""
    head: dict[str, Any] = _bounded(location, "head", lambda: client.head_object(Bucket=location.bucket, Key=key))
    return {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}


def object_size(client: Any, location: S3Location, key: str) -> int | None:
    """The size of one object (HEAD); a missing object raises `ProbeError` (configuration)."""
    head: dict[str, Any] = _bounded(location, "head", lambda: client.head_object(Bucket=location.bucket, Key=key))
    size = head.get("ContentLength")
    return int(size) if isinstance(size, int) else None


def read_object(client: Any, location: S3Location, key: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """One object's bytes, within the request deadline and at most ``limit`` bytes."""
    deadline = time.monotonic() + location.request_deadline_s

    def fetch() -> bytes:
        body = client.get_object(Bucket=location.bucket, Key=key)["Body"]
        try:
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = body.read(_CHUNK)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise ProbeError(Category.INFRASTRUCTURE, f"get {location}: object larger than {limit} bytes")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise ProbeError(Category.INFRASTRUCTURE, f"get {location}: no complete answer in time")
        finally:
            body.close()

    return _bounded(location, "get", fetch)
