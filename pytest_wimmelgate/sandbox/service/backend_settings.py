"""The backend's settings, read once from environment variables into a frozen object."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_wimmelgate.sandbox.service.fault_switches import FAULTS_ENV, Faults, parse_faults

STORAGE_MODES = ("s3", "local")
LOG_LEVELS = ("debug", "info", "warning", "error")
DIALECTS = ("wimmelwelt", "parse")
DIALECT_ENV = "WIMMELGATE_SANDBOX_DIALECT"
DEFAULT_APP_ID = "wimmelwelt-sandbox"


class SettingsError(ValueError):
    """A bad setting; the message is one line naming the variable."""


@dataclass(frozen=True)
class BackendSettings:
    """Everything the backend process needs, see `from_env` for the variable names."""

    host: str
    port: int
    mongodb_uri: str
    storage_mode: str
    storage_fallback: bool
    local_storage_path: Path
    s3_endpoint: str | None
    s3_bucket: str
    s3_region: str
    s3_access_key_id: str
    s3_secret_access_key: str
    auth_secret: str
    version: str
    commit: str
    smoke_user: str
    smoke_password: str
    login_limit: int
    faults: Faults
    traffic_rps: float
    push_delay_s: float
    log_level: str
    log_file: Path | None
    dialect: str = DIALECTS[0]
    app_id: str = DEFAULT_APP_ID

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, host: str | None = None, port: int | None = None) -> BackendSettings:
        """Read the settings; raises `SettingsError` (or `FaultSpecError`) on bad values.

        Variables: ``MONGODB_URI``, ``FILE_STORAGE_MODE`` (s3|local),
        ``FILE_STORAGE_FALLBACK`` (local|none), ``FILE_STORAGE_PATH``, ``S3_ENDPOINT_URL``,
        ``S3_BUCKET``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
        ``AUTH_SECRET``, ``LOG_LEVEL`` and ``WIMMELGATE_SANDBOX_{HOST, PORT, VERSION, COMMIT,
        USER, PASSWORD, LOGIN_LIMIT, FAULTS, TRAFFIC_RPS, PUSH_DELAY_MS, LOG_FILE, DIALECT,
        APP_ID}``. ``WIMMELGATE_SANDBOX_DIALECT`` picks the HTTP API: ``wimmelwelt`` (default)
        or ``parse`` (see `dialects.parse`); ``APP_ID`` is the value the parse
        dialect wants in ``X-App-Id``.
        """

        def get(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        storage_mode = get("FILE_STORAGE_MODE", "local").lower()
        if storage_mode not in STORAGE_MODES:
            raise SettingsError(f"FILE_STORAGE_MODE={storage_mode}: expected s3 or local")
        fallback = get("FILE_STORAGE_FALLBACK", "local").lower()
        if fallback not in ("local", "none"):
            raise SettingsError(f"FILE_STORAGE_FALLBACK={fallback}: expected local or none")
        log_level = get("LOG_LEVEL", "info").lower()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL={log_level}: expected one of {', '.join(LOG_LEVELS)}")
        mongodb_uri = get("MONGODB_URI", "mongodb://127.0.0.1:27017/wimmelwelt_sandbox")
        if not _database_name(mongodb_uri):
            raise SettingsError("MONGODB_URI: names no database (expected .../wimmelwelt_<env>)")
        log_file = get("WIMMELGATE_SANDBOX_LOG_FILE", "")
        dialect = get(DIALECT_ENV, DIALECTS[0]).lower()
        if dialect not in DIALECTS:
            raise SettingsError(f"{DIALECT_ENV}={dialect}: expected one of {', '.join(DIALECTS)}")
        return cls(
            host=host or get("WIMMELGATE_SANDBOX_HOST", "127.0.0.1"),
            port=port if port is not None else _int(env, "WIMMELGATE_SANDBOX_PORT", 8080, 0),
            mongodb_uri=mongodb_uri,
            storage_mode=storage_mode,
            storage_fallback=fallback == "local",
            local_storage_path=Path(get("FILE_STORAGE_PATH", "wimmelwelt-files")),
            s3_endpoint=get("S3_ENDPOINT_URL", "") or None,
            s3_bucket=get("S3_BUCKET", "wimmelwelt-sandbox"),
            s3_region=get("AWS_REGION", "eu-central-1"),
            s3_access_key_id=get("AWS_ACCESS_KEY_ID", "testing"),
            s3_secret_access_key=get("AWS_SECRET_ACCESS_KEY", "testing"),
            auth_secret=get("AUTH_SECRET", "") or secrets.token_hex(32),
            version=get("WIMMELGATE_SANDBOX_VERSION", "0.0.0-sandbox"),
            commit=get("WIMMELGATE_SANDBOX_COMMIT", "sandbox"),
            smoke_user=get("WIMMELGATE_SANDBOX_USER", "smoke"),
            smoke_password=get("WIMMELGATE_SANDBOX_PASSWORD", ""),
            login_limit=_int(env, "WIMMELGATE_SANDBOX_LOGIN_LIMIT", 5, 1),
            faults=parse_faults(env.get(FAULTS_ENV, "")),
            traffic_rps=_float(env, "WIMMELGATE_SANDBOX_TRAFFIC_RPS", 5.0),
            push_delay_s=_float(env, "WIMMELGATE_SANDBOX_PUSH_DELAY_MS", 200.0) / 1000.0,
            log_level=log_level,
            log_file=Path(log_file) if log_file else None,
            dialect=dialect,
            app_id=get("WIMMELGATE_SANDBOX_APP_ID", DEFAULT_APP_ID),
        )

    @property
    def database_name(self) -> str:
        return _database_name(self.mongodb_uri)


def _database_name(uri: str) -> str:
    rest = uri.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return path.split("?", 1)[0]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name}={text}: expected an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={text}: expected an integer >= {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name}={text}: expected a number") from None
    if not 0 <= value < 1e6:
        raise SettingsError(f"{name}={text}: expected a number >= 0")
    return value
