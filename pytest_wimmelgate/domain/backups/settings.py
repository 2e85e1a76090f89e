"""The ``backups`` section of an environment file, parsed into `BackupSettings`.

::

    backups:
      s3: {bucket: wimmelwelt-backups, prefix: prod/, endpoint_url: ..., region: eu-central-1,
           timeout_s: 5,
           access_key_variable: BACKUP_AWS_ACCESS_KEY_ID,        # optional; default: the
           secret_key_variable: BACKUP_AWS_SECRET_ACCESS_KEY}    # standard AWS chain
      max_age_hours: 24            # GL-2
      days: 7                      # DR-1
      timezone: UTC                # DR-1 day boundaries
      restore:
        store: s3                  # or mongodb
        s3: {prefix: restore-tests/}   # default; bucket, endpoint, region, keys from backups.s3
        mongodb: {uri_variable: OPS_MONGODB_URI, database: ops, collection: restore_tests}
        max_age_days: 30           # GL-3
        weeks: 1                   # DR-2

Numbers may be written as texts (``"24"``). A bad key raises `ConfigError` with its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pytest_wimmelgate.config.fields import check_keys, number, whole_number
from pytest_wimmelgate.errors import ConfigError, NotConfigured
from pytest_wimmelgate.probes.s3 import DEFAULT_TIMEOUT_S, S3Location

SECTION = "backups"
KEYS = ("s3", "max_age_hours", "days", "timezone", "restore")
S3_KEYS = ("bucket", "prefix", "endpoint_url", "region", "timeout_s")
CREDENTIAL_KEYS = ("access_key_variable", "secret_key_variable")
RESTORE_KEYS = ("store", "s3", "mongodb", "max_age_days", "weeks")
MONGODB_KEYS = ("uri_variable", "database", "collection")


@dataclass(frozen=True)
class BackupSettings:
    """The parsed ``backups`` section."""

    source: str
    location: S3Location
    access_key_variable: str | None = None
    secret_key_variable: str | None = None
    max_age: timedelta = timedelta(hours=24)
    days: int = 7
    timezone: str = "UTC"
    restore_store: str = "s3"
    restore_location: S3Location | None = None
    restore_mongo: tuple[str, str, str] | None = None  # uri variable, database, collection
    restore_max_age: timedelta = timedelta(days=30)
    weeks: int = 1


def _need(cond: bool, source: str, path: str, expected: str) -> None:
    if not cond:
        raise ConfigError(source, path, expected)


def _mapping(value: Any, source: str, path: str, expected: str = "a mapping") -> Mapping[str, Any]:
    _need(isinstance(value, Mapping), source, path, expected)
    assert isinstance(value, Mapping)
    return value


def _s3_section(value: Any, source: str, path: str, default: S3Location | None) -> tuple[S3Location, dict[str, Any]]:
    keys = S3_KEYS + (CREDENTIAL_KEYS if default is None else ())  # only the backups' own location names keys
    section = _mapping(value, source, path, "a mapping with bucket and prefix")
    check_keys(section, keys, source, path)
    bucket = section.get("bucket", default.bucket if default else None)
    _need(isinstance(bucket, str) and bool(bucket.strip()), source, f"{path}.bucket", "a bucket name")
    texts = {}
    for k in ("prefix", "endpoint_url", "region", *CREDENTIAL_KEYS):
        v = section.get(k)
        _need(v is None or isinstance(v, str), source, f"{path}.{k}", "a text")
        texts[k] = v
    timeout = number(
        section.get("timeout_s", DEFAULT_TIMEOUT_S),
        source,
        f"{path}.timeout_s",
        "seconds between 0 and 60",
        above=0,
        at_most=60,
    )
    location = S3Location(
        bucket=str(bucket),
        prefix=texts["prefix"] or "",
        endpoint_url=texts["endpoint_url"] or (default.endpoint_url if default else None),
        region=texts["region"] or (default.region if default else None),
        timeout_s=timeout,
    )
    return location, texts


def _mongo_section(value: Any, source: str, path: str) -> tuple[str, str, str]:
    section = _mapping(value, source, path, "a mapping with uri_variable, database, collection")
    check_keys(section, MONGODB_KEYS, source, path)
    values = []
    for k, default in (("uri_variable", None), ("database", None), ("collection", "restore_tests")):
        v = section.get(k, default)
        _need(isinstance(v, str) and bool(v.strip()), source, f"{path}.{k}", "a non-empty text")
        values.append(str(v))
    return values[0], values[1], values[2]


def parse_backup_settings(section: Mapping[str, Any] | None, source: str) -> BackupSettings:
    """Validate the ``backups`` section of the environment file at ``source``."""
    if section is None:
        raise NotConfigured(SECTION)
    section = _mapping(section, source, SECTION)
    check_keys(section, KEYS, source, SECTION)
    location, texts = _s3_section(section.get("s3"), source, f"{SECTION}.s3", None)
    hours = number(
        section.get("max_age_hours", 24), source, f"{SECTION}.max_age_hours", "a positive number of hours", above=0
    )
    tz = section.get("timezone", "UTC")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(source, f"{SECTION}.timezone", "an IANA time zone such as UTC") from None
    restore = _mapping(section.get("restore", {}), source, f"{SECTION}.restore")
    check_keys(restore, RESTORE_KEYS, source, f"{SECTION}.restore")
    store = restore.get("store", "s3")
    _need(store in ("s3", "mongodb"), source, f"{SECTION}.restore.store", "one of: s3, mongodb")
    restore_location = None
    restore_mongo = None
    if store == "s3":
        default = {"prefix": "restore-tests/"}
        restore_location, _ = _s3_section(restore.get("s3", default), source, f"{SECTION}.restore.s3", location)
    else:
        restore_mongo = _mongo_section(restore.get("mongodb"), source, f"{SECTION}.restore.mongodb")
    days_age = number(
        restore.get("max_age_days", 30),
        source,
        f"{SECTION}.restore.max_age_days",
        "a positive number of days",
        above=0,
    )
    positive = "a positive whole number"
    return BackupSettings(
        source=source,
        location=location,
        access_key_variable=texts["access_key_variable"],
        secret_key_variable=texts["secret_key_variable"],
        max_age=timedelta(hours=hours),
        days=whole_number(section.get("days", 7), source, f"{SECTION}.days", positive, minimum=1),
        timezone=str(tz),
        restore_store=str(store),
        restore_location=restore_location,
        restore_mongo=restore_mongo,
        restore_max_age=timedelta(days=days_age),
        weeks=whole_number(restore.get("weeks", 1), source, f"{SECTION}.restore.weeks", positive, minimum=1),
    )
