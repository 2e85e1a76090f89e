"""`SandboxInfo`: where a running sandbox lives, passable between processes as JSON."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_wimmelgate.sandbox.service.backend_settings import DEFAULT_APP_ID

INFO_FILE = "sandbox.json"
_PATHS = frozenset(
    {
        "workdir",
        "local_storage_path",
        "backend_log_file",
        "db_pid_file",
        "s3_pid_file",
        "backend_pid_file",
        "prometheus_pid_file",
        "alertmanager_pid_file",
        "rules_file",
        "alertmanager_config_file",
    }
)


@dataclass(frozen=True)
class SandboxInfo:
    """Endpoints, credentials, and pid files of one running sandbox.

    ``to_dict``/``from_dict`` round-trip through JSON, so a pytest-xdist worker that did
    not start the sandbox can still reach it and pause, resume or restart its parts.
    The credentials are sandbox-only values generated at start.
    """

    base_url: str
    mongodb_uri: str
    s3_endpoint: str
    s3_bucket: str
    s3_region: str
    s3_access_key_id: str
    s3_secret_access_key: str
    storage_mode: str
    local_storage_path: Path
    prometheus_url: str | None
    alertmanager_url: str | None
    workdir: Path
    version: str
    commit: str
    smoke_user: str
    smoke_password: str
    auth_secret: str
    faults: str
    backend_log_file: Path
    db_pid_file: Path
    s3_pid_file: Path
    backend_pid_file: Path
    prometheus_pid_file: Path | None
    alertmanager_pid_file: Path | None
    rules_file: Path
    alertmanager_config_file: Path
    db_command: tuple[str, ...]
    owner_pid: int
    #: the API dialect the backend speaks (WIMMELGATE_SANDBOX_DIALECT)
    dialect: str = "wimmelwelt"

    def gate_variables(self) -> dict[str, str]:
        """The ``SANDBOX_*`` variables through which gate runs reach this sandbox.

        ``SANDBOX_PROMETHEUS_URL``/``SANDBOX_ALERTMANAGER_URL`` are present and empty when
        the component is not running, so ``${SANDBOX_PROMETHEUS_URL}`` resolves (to "").
        """
        values = {
            "SANDBOX_BASE_URL": self.base_url,
            "SANDBOX_MONGODB_URI": self.mongodb_uri,
            "SANDBOX_S3_ENDPOINT": self.s3_endpoint,
            "SANDBOX_S3_BUCKET": self.s3_bucket,
            "SANDBOX_S3_ACCESS_KEY_ID": self.s3_access_key_id,
            "SANDBOX_S3_SECRET_ACCESS_KEY": self.s3_secret_access_key,
            "SANDBOX_SMOKE_USER": self.smoke_user,
            "SANDBOX_SMOKE_PASSWORD": self.smoke_password,
            "SANDBOX_APP_ID": DEFAULT_APP_ID,
            "SANDBOX_PROMETHEUS_URL": self.prometheus_url or "",
            "SANDBOX_ALERTMANAGER_URL": self.alertmanager_url or "",
            "SANDBOX_INFO": json.dumps(self.to_dict()),
        }
        optional = ("SANDBOX_PROMETHEUS_URL", "SANDBOX_ALERTMANAGER_URL")
        return {k: v for k, v in values.items() if v or k in optional}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: paths as strings, the command as a list."""
        data = asdict(self)
        for name in _PATHS:
            if data[name] is not None:
                data[name] = str(data[name])
        data["db_command"] = list(self.db_command)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxInfo:
        """Inverse of `to_dict`; unknown keys are ignored, a missing key without a default
        is a ValueError."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name not in data:
                if field.default is not MISSING:
                    continue
                raise ValueError(f"sandbox info: missing key {field.name!r}")
            value = data[field.name]
            if field.name in _PATHS and value is not None:
                value = Path(value)
            elif field.name == "db_command":
                value = tuple(str(part) for part in value)
            values[field.name] = value
        return cls(**values)

    def save(self, path: Path | None = None) -> Path:
        """Write the JSON (mode 0600: it holds the sandbox credentials)."""
        target = path or self.workdir / INFO_FILE
        target.touch(mode=0o600, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: Path) -> SandboxInfo:
        """Read a file written by `save` (a workdir is accepted too)."""
        if path.is_dir():
            path = path / INFO_FILE
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @property
    def db_port(self) -> int:
        return int(urlsplit(self.mongodb_uri).port or 27017)

    @property
    def database_name(self) -> str:
        return urlsplit(self.mongodb_uri).path.lstrip("/")

    def environ(self) -> dict[str, str]:
        """The backend-style variables of this sandbox (what an environment file reads)."""
        env = {
            "WIMMELGATE_SANDBOX_URL": self.base_url,
            "MONGODB_URI": self.mongodb_uri,
            "FILE_STORAGE_MODE": self.storage_mode,
            "FILE_STORAGE_PATH": str(self.local_storage_path),
            "S3_ENDPOINT_URL": self.s3_endpoint,
            "S3_BUCKET": self.s3_bucket,
            "AWS_REGION": self.s3_region,
            "AWS_ACCESS_KEY_ID": self.s3_access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_access_key,
            "AUTH_SECRET": self.auth_secret,
            "WIMMELGATE_SANDBOX_USER": self.smoke_user,
            "WIMMELGATE_SANDBOX_PASSWORD": self.smoke_password,
            "WIMMELGATE_SANDBOX_LOG_FILE": str(self.backend_log_file),
        }
        if self.prometheus_url:
            env["WIMMELGATE_PROMETHEUS_URL"] = self.prometheus_url
        if self.alertmanager_url:
            env["WIMMELGATE_ALERTMANAGER_URL"] = self.alertmanager_url
        return env
