"""File storage of uploads: S3 or a local folder, with the runbook's local fallback."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.backend_settings import BackendSettings
    from pytest_wimmelgate.sandbox.service.instruments import Metrics

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


class StorageUnavailable(Exception):
    """The store did not answer or failed (not: the object is missing)."""


class ObjectMissing(KeyError):
    """The store answered that the object does not exist."""


class Store(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None: ...


class LocalStore:
    """Objects as files below ``root``."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"bad object key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageUnavailable(f"local write failed: {exc.strerror}") from None

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"local read failed: {exc.strerror}") from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageUnavailable(f"local delete failed: {exc.strerror}") from None

    def check(self) -> None:
        """The folder exists (or can be made) and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"local folder unusable: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"local folder not writable: {self.root}")


class S3Store:
    """Objects in one S3 bucket; short timeouts and no retries, so a dead S3 fails fast."""

    name = "s3"

    def __init__(self, settings: BackendSettings, *, connect_timeout: float = 1.0, read_timeout: float = 2.0) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=Config(
                connect_timeout=connect_timeout, read_timeout=read_timeout, retries={"total_max_attempts": 1}
            ),
        )

    def put(self, key: str, data: bytes) -> None:
        self._call("put_object", Bucket=self.bucket, Key=key, Body=data)

    def get(self, key: str) -> bytes:
        answer = self._call("get_object", Bucket=self.bucket, Key=key)
        try:
            return bytes(answer["Body"].read())
        except Exception as exc:  # a stream cut mid-way is an unavailable store
            raise StorageUnavailable(f"s3 read failed: {exc.__class__.__name__}") from None

    def delete(self, key: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=key)

    def check(self) -> None:
        self._call("head_bucket", Bucket=self.bucket)

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectMissing(params.get("Key", "")) from None
            raise StorageUnavailable(f"s3 {operation} failed: {code or 'error'}") from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"s3 {operation} failed: {exc.__class__.__name__}") from None


class FileStorage:
    """The primary store plus an optional local fallback (runbook 8, Storage-Recovery).

    ``put`` answers where the bytes went: ``s3``, ``local`` or ``local-fallback``.
    """

    def __init__(
        self, primary: Store, fallback: LocalStore | None, metrics: Metrics, check_store: Store | None = None
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self._metrics = metrics
        self._check_store = check_store or primary

    def _count(self, store: Store, operation: str, ok: bool) -> None:
        self._metrics.storage.labels(backend=store.name, operation=operation, result="ok" if ok else "error").inc()

    def _fallback_used(self, operation: str) -> None:
        self._metrics.storage_fallbacks.labels(operation=operation).inc()

    def put(self, key: str, data: bytes) -> str:
        try:
            self.primary.put(key, data)
        except StorageUnavailable:
            self._count(self.primary, "put", False)
            if self.fallback is None:
                raise
            self.fallback.put(key, data)
            self._count(self.fallback, "put", True)
            self._fallback_used("put")
            return "local-fallback"
        self._count(self.primary, "put", True)
        return self.primary.name

    def get(self, key: str, stored_in: str) -> tuple[bytes, str]:
        """The bytes and where they came from; the fallback is tried when S3 fails."""
        stores: list[tuple[Store, str]] = [(self.primary, self.primary.name)]
        if self.fallback is not None and self.primary is not self.fallback:
            label = "local-fallback" if self.primary.name != "local" else "local"
            if stored_in == "local-fallback":
                stores.insert(0, (self.fallback, label))
            else:
                stores.append((self.fallback, label))
        missing = 0
        error: StorageUnavailable | None = None
        for store, label in stores:
            try:
                data = store.get(key)
            except ObjectMissing:
                missing += 1
                continue
            except StorageUnavailable as exc:
                self._count(store, "get", False)
                error = error or exc
                continue
            self._count(store, "get", True)
            if label == "local-fallback" and stored_in != "local-fallback":
                self._fallback_used("get")
            return data, label
        if error is not None:
            raise error
        raise ObjectMissing(key)

    def delete(self, key: str, stored_in: str) -> None:
        """Delete from the store the object was written to (missing is fine)."""
        store: Store = self.primary
        if stored_in == "local-fallback" and self.fallback is not None:
            store = self.fallback
        try:
            store.delete(key)
        except ObjectMissing:
            pass
        except StorageUnavailable:
            self._count(store, "delete", False)
            raise
        self._count(store, "delete", True)

    def check(self) -> str:
        """``ok``, or ``local-fallback`` when S3 fails but the fallback works."""
        try:
            self._check_store.check()
        except StorageUnavailable:
            self._count(self.primary, "check", False)
            if self.fallback is None:
                raise
            self.fallback.check()
            return "local-fallback"
        self._count(self.primary, "check", True)
        return "ok"


def make_storage(settings: BackendSettings, metrics: Metrics) -> FileStorage:
    """The storage the settings ask for: S3 (with fallback) or the local folder."""
    local = LocalStore(settings.local_storage_path)
    if settings.storage_mode == "local":
        return FileStorage(local, None, metrics)
    fallback = local if settings.storage_fallback else None
    check = S3Store(settings, connect_timeout=0.5, read_timeout=0.8)
    return FileStorage(S3Store(settings), fallback, metrics, check_store=check)
