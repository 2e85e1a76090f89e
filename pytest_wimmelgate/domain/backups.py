"""GL-2, GL-3, DR-1, DR-2: backup freshness and restore tests (runbook 2.3, 5, 8).

Style: the ``check_*`` functions evaluate data and return a :class:`BackupResult`; a failed
requirement is ``ok=False``. The ``run_*`` functions fetch the data first and turn an
unreachable store into a failed result of category ``infrastructure unreachable``, so a
test only calls ``run_...(...).raise_for_failure()``. A malformed ``backups`` section raises
:class:`~pytest_wimmelgate.errors.ConfigError`. ``now`` is always a parameter: the gate's
clock (``--wg-now``), never the wall clock.

Categories: unreachable S3/MongoDB → ``infrastructure unreachable``; a missing bucket or
refused credentials → ``configuration missing``; no backup object / no restore record →
``no data``; a backup or restore test that is too old, a gap in the daily backups, or a
newest restore test that failed → ``product defect``.

Backup time convention (first that applies, per object; recorded as ``time_source``):

1. object metadata ``backup-time`` (HTTP header ``x-amz-meta-backup-time``), ISO 8601;
2. an ISO 8601 timestamp in the key, e.g. ``backups/2026-11-27T03:00:00Z.archive`` or
   ``backups/wimmelwelt-20261127T030000Z.gz``; without an offset it is UTC;
3. the object's ``LastModified``.

Metadata is read with one HEAD request per object, only for objects that can matter: those
whose ``LastModified`` is at most ``horizon`` old, plus the 20 newest (an object is never
uploaded before its backup was taken, so ``LastModified`` bounds the backup time from
above). Keys ending in ``/`` and empty (0-byte) objects are not backups; objects whose
backup time lies after ``now`` do not exist yet from the gate's point of view (dry runs
with ``--wg-now`` in the past). Both are counted in the evidence.

DR-1 counts calendar days in ``backups.timezone`` (default ``UTC``): it needs a backup on
each of the 7 *complete* days before the day of ``now`` (today's backup may not have run
yet; GL-2 covers freshness).

Restore test records, one per test, either JSON objects under an S3 prefix or documents in
a MongoDB collection, with the same fields::

    {"restored_at": "2026-11-20T10:15:00Z", "backup": "backups/2026-11-20T03:00:00Z.archive",
     "result": "ok", "ticket": "https://tickets.example/OPS-812"}

``restored_at`` (ISO 8601 text or a BSON date) is required; ``result`` ``ok`` marks a
successful test; anything else is a failed test. Records that cannot be read are skipped
and counted. GL-3: the newest successful test is younger than 30 days and no later test
failed. DR-2 ("wöchentlich Restore-Test dokumentieren"): in each of the last ``weeks``
rolling 7-day periods before ``now`` (default 1) there is a successful test whose record
links a ticket (runbook: "Ergebnisse in Ticketing verlinken").

Section ``backups`` of an environment file::

    backups:
      s3: {bucket: wimmelwelt-backups, prefix: prod/, endpoint_url: ..., region: eu-central-1,
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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured, ProbeError

SECTION = "backups"
META_KEY = "backup-time"
HEAD_NEWEST = 20
DEFAULT_TIMEOUT_S = 5.0
_KEY_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ ]?(\d{2})[:\-]?(\d{2})[:\-]?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BackupResult(CheckResult):
    """Outcome of GL-2, GL-3, DR-1 or DR-2."""


@dataclass(frozen=True)
class BackupObject:
    """One backup object and the time it was taken."""

    key: str
    taken_at: datetime
    time_source: str  # "metadata", "key" or "last-modified"
    size: int


@dataclass(frozen=True)
class BackupListing:
    """What a prefix holds: backups, and what was set aside (with counts)."""

    where: str
    backups: tuple[BackupObject, ...]
    empty_objects: int = 0
    future_objects: int = 0

    def newest(self) -> BackupObject | None:
        return max(self.backups, key=lambda b: b.taken_at, default=None)


@dataclass(frozen=True)
class RestoreRecord:
    """One documented restore test."""

    restored_at: datetime
    result: str
    backup: str
    ticket: str
    origin: str  # S3 key or MongoDB _id

    @property
    def ok(self) -> bool:
        return self.result.strip().lower() == "ok"


@dataclass(frozen=True)
class RestoreRecords:
    where: str
    records: tuple[RestoreRecord, ...]
    unreadable: tuple[str, ...] = ()
    future: int = 0


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def _age(now: datetime, then: datetime) -> str:
    seconds = (now - then).total_seconds()
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 timestamp (offset optional, default UTC) as aware UTC; else None."""
    try:
        return _utc(datetime.fromisoformat(text.strip()))
    except (ValueError, AttributeError):
        return None


def time_from_key(key: str) -> datetime | None:
    """The last ISO 8601 timestamp inside ``key`` (``2026-11-27T03:00:00Z``,
    ``20261127T030000Z``), as aware UTC (UTC if no offset); else None."""
    for match in reversed(list(_KEY_TIME.finditer(key))):
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        text = f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction or ''}"
        if offset and offset != "Z":
            text += offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
        found = parse_time(text)
        if found is not None:
            return found
    return None


# ----------------------------------------------------------------------------- S3 access


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


def s3_client(location: S3Location, access_key_id: str | None = None, secret_access_key: str | None = None) -> Any:
    """A boto3 S3 client with short timeouts and a single retry.

    Without explicit keys boto3's standard credential chain applies.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=location.timeout_s,
        read_timeout=location.timeout_s,
        retries={"max_attempts": 2, "mode": "standard"},
        signature_version="s3v4",
    )
    return boto3.client(
        "s3",
        endpoint_url=location.endpoint_url,
        region_name=location.region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


def _s3_failure(exc: Exception, action: str, location: S3Location) -> ProbeError:
    """Map a boto3/botocore exception to a ProbeError without quoting any message."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = f"{action} {location}" + (f" at {location.endpoint_url}" if location.endpoint_url else "")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "error"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        config_codes = {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
        if code in config_codes or status in (401, 403, 404):
            return ProbeError(Category.CONFIG, f"{where}: {code}", {"code": code, "status": status})
        return ProbeError(Category.INFRASTRUCTURE, f"{where}: {code}", {"code": code, "status": status})
    if isinstance(exc, NoCredentialsError):
        return ProbeError(Category.CONFIG, f"{where}: no AWS credentials configured")
    if isinstance(exc, BotoCoreError):
        return ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}")
    return ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}")


def _list_objects(client: Any, location: S3Location) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=location.bucket, Prefix=location.prefix):
            objects.extend(page.get("Contents", []))
    except Exception as exc:
        raise _s3_failure(exc, "list", location) from None
    return objects


def list_backups(
    client: Any, location: S3Location, now: datetime, horizon: timedelta = timedelta(days=9)
) -> BackupListing:
    """The backups under ``location`` with their backup time (see module docstring).

    Raises :class:`ProbeError` when S3 cannot be listed.
    """
    now = _utc(now)
    objects = [o for o in _list_objects(client, location) if not o["Key"].endswith("/")]
    empty = [o for o in objects if int(o.get("Size", 0)) == 0]
    objects = [o for o in objects if int(o.get("Size", 0)) > 0]
    objects.sort(key=lambda o: _utc(o["LastModified"]), reverse=True)
    backups = []
    future = 0
    for index, obj in enumerate(objects):
        modified = _utc(obj["LastModified"])
        taken: datetime | None = None
        source = ""
        if index < HEAD_NEWEST or modified >= now - horizon:
            try:
                head = client.head_object(Bucket=location.bucket, Key=obj["Key"])
            except Exception as exc:
                raise _s3_failure(exc, "head", location) from None
            meta = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
            if META_KEY in meta:
                taken, source = parse_time(meta[META_KEY]), "metadata"
        if taken is None:
            taken, source = time_from_key(obj["Key"]), "key"
        if taken is None:
            taken, source = modified, "last-modified"
        if taken > now:
            future += 1
            continue
        backups.append(BackupObject(obj["Key"], taken, source, int(obj.get("Size", 0))))
    return BackupListing(str(location), tuple(backups), len(empty), future)


def _record_from(data: Any, origin: str) -> RestoreRecord | None:
    if not isinstance(data, Mapping):
        return None
    raw = data.get("restored_at")
    when = _utc(raw) if isinstance(raw, datetime) else parse_time(raw) if isinstance(raw, str) else None
    if when is None:
        return None
    return RestoreRecord(
        restored_at=when,
        result=str(data.get("result", "")),
        backup=str(data.get("backup", "") or ""),
        ticket=str(data.get("ticket", "") or ""),
        origin=origin,
    )


def _split_future(records: list[RestoreRecord], now: datetime) -> tuple[list[RestoreRecord], int]:
    kept = [r for r in records if r.restored_at <= now]
    return kept, len(records) - len(kept)


def restore_records_s3(client: Any, location: S3Location, now: datetime) -> RestoreRecords:
    """Restore records stored as JSON objects under ``location``; raises ProbeError."""
    records: list[RestoreRecord] = []
    unreadable: list[str] = []
    for obj in _list_objects(client, location):
        key = obj["Key"]
        if key.endswith("/"):
            continue
        try:
            body = client.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise _s3_failure(exc, "get", location) from None
        try:
            record = _record_from(json.loads(body), key)
        except ValueError:
            record = None
        if record is None:
            unreadable.append(key)
        else:
            records.append(record)
    kept, future = _split_future(records, _utc(now))
    return RestoreRecords(str(location), tuple(kept), tuple(unreadable), future)


def restore_records_mongo(
    uri: str, database: str, collection: str, now: datetime, timeout_s: float = DEFAULT_TIMEOUT_S
) -> RestoreRecords:
    """Restore records from a MongoDB collection; raises ProbeError when unreachable.

    The URI (it may hold credentials) is never quoted: errors name hosts and collection.
    """
    import pymongo
    from pymongo.errors import PyMongoError

    from pytest_wimmelgate.config.fingerprint import uri_hosts

    where = f"mongodb {','.join(uri_hosts(uri)) or '?'} {database}.{collection}"
    ms = int(timeout_s * 1000)
    try:
        client: Any = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms, tz_aware=True
        )
    except Exception as exc:
        raise ProbeError(Category.CONFIG, f"{where}: bad connection settings ({exc.__class__.__name__})") from None
    records: list[RestoreRecord] = []
    unreadable: list[str] = []
    try:
        cursor = client[database][collection].find({}).sort("restored_at", -1).limit(1000)
        for doc in cursor:
            record = _record_from(doc, str(doc.get("_id")))
            if record is None:
                unreadable.append(str(doc.get("_id")))
            else:
                records.append(record)
    except PyMongoError as exc:
        raise ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}") from None
    finally:
        client.close()
    kept, future = _split_future(records, _utc(now))
    return RestoreRecords(where, tuple(kept), tuple(unreadable), future)


# ----------------------------------------------------------------------------- checks


def _listing_details(listing: BackupListing) -> dict[str, Any]:
    return {
        "where": listing.where,
        "backups": len(listing.backups),
        "empty_objects_ignored": listing.empty_objects,
        "objects_after_now_ignored": listing.future_objects,
    }


def check_newest_backup(
    listing: BackupListing, now: datetime, max_age: timedelta = timedelta(hours=24)
) -> BackupResult:
    """GL-2: the newest backup is younger than ``max_age`` (runbook 2.3: <24h)."""
    now = _utc(now)
    details = _listing_details(listing)
    details["max_age_hours"] = max_age.total_seconds() / 3600
    newest = listing.newest()
    if newest is None:
        return BackupResult("GL-2", False, f"no backup object under {listing.where}", Category.NO_DATA, details)
    age = now - newest.taken_at
    details.update(
        newest_key=newest.key,
        newest_time=_iso(newest.taken_at),
        time_source=newest.time_source,
        age_hours=round(age.total_seconds() / 3600, 2),
    )
    limit = f"{max_age.total_seconds() / 3600:g} h"
    text = (
        f"newest backup {newest.key} taken {_iso(newest.taken_at)} ({newest.time_source}), "
        f"{_age(now, newest.taken_at)} old"
    )
    if age >= max_age:
        return BackupResult("GL-2", False, f"{text}, limit {limit}", Category.PRODUCT, details)
    return BackupResult("GL-2", True, f"{text} (< {limit})", None, details)


def check_daily_backups(listing: BackupListing, now: datetime, days: int = 7, tz: str = "UTC") -> BackupResult:
    """DR-1: a backup on each of the ``days`` complete local days before ``now``'s day."""
    zone = ZoneInfo(tz)
    now = _utc(now)
    today = now.astimezone(zone).date()
    wanted = [today - timedelta(days=offset) for offset in range(days, 0, -1)]
    per_day: dict[date, int] = {}
    for backup in listing.backups:
        day = backup.taken_at.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    missing = [d for d in wanted if not per_day.get(d)]
    details = _listing_details(listing)
    details.update(
        timezone=tz,
        days=[d.isoformat() for d in wanted],
        per_day={d.isoformat(): per_day.get(d, 0) for d in wanted},
        today=per_day.get(today, 0),
    )
    span = f"{wanted[0].isoformat()}..{wanted[-1].isoformat()} ({tz})"
    if not listing.backups:
        return BackupResult("DR-1", False, f"no backup object under {listing.where}", Category.NO_DATA, details)
    if missing:
        listed = ", ".join(d.isoformat() for d in missing)
        details["missing_days"] = [d.isoformat() for d in missing]
        return BackupResult(
            "DR-1",
            False,
            f"no backup on {len(missing)} of {days} days {span}: {listed}",
            Category.PRODUCT,
            details,
        )
    return BackupResult("DR-1", True, f"a backup on each of the {days} days {span}", None, details)


def _records_details(records: RestoreRecords) -> dict[str, Any]:
    return {
        "where": records.where,
        "records": len(records.records),
        "unreadable_records": list(records.unreadable),
        "records_after_now_ignored": records.future,
    }


def _describe(record: RestoreRecord) -> str:
    ticket = f", ticket {record.ticket}" if record.ticket else ""
    return f"{_iso(record.restored_at)} result {record.result or '?'}{ticket} ({record.origin})"


def check_last_restore(records: RestoreRecords, now: datetime, max_age: timedelta = timedelta(days=30)) -> BackupResult:
    """GL-3: newest successful restore test younger than ``max_age``; none failed since."""
    now = _utc(now)
    details = _records_details(records)
    details["max_age_days"] = max_age.total_seconds() / 86400
    skipped = f" ({len(records.unreadable)} unreadable records skipped)" if records.unreadable else ""
    if not records.records:
        return BackupResult(
            "GL-3", False, f"no restore test record in {records.where}{skipped}", Category.NO_DATA, details
        )
    ordered = sorted(records.records, key=lambda r: r.restored_at, reverse=True)
    newest = ordered[0]
    good = next((r for r in ordered if r.ok), None)
    limit = f"{max_age.total_seconds() / 86400:g} days"
    if not newest.ok:
        details["newest"] = _describe(newest)
        return BackupResult(
            "GL-3",
            False,
            f"newest restore test failed: {_describe(newest)}{skipped}",
            Category.PRODUCT,
            details,
        )
    assert good is not None
    age = now - good.restored_at
    details.update(last_ok=_describe(good), age_days=round(age.total_seconds() / 86400, 2))
    text = f"last restore test {_describe(good)} is {_age(now, good.restored_at)} old"
    if age >= max_age:
        return BackupResult("GL-3", False, f"{text}, limit {limit}{skipped}", Category.PRODUCT, details)
    return BackupResult("GL-3", True, f"{text} (< {limit}){skipped}", None, details)


def check_weekly_restore(records: RestoreRecords, now: datetime, weeks: int = 1) -> BackupResult:
    """DR-2: a successful, ticket-linked restore test in each of the last ``weeks`` weeks."""
    now = _utc(now)
    details = _records_details(records)
    details["weeks"] = weeks
    if not records.records:
        return BackupResult("DR-2", False, f"no restore test record in {records.where}", Category.NO_DATA, details)
    periods: list[dict[str, str | None]] = []
    missing: list[str] = []
    for week in range(weeks):
        end = now - timedelta(days=7 * week)
        start = end - timedelta(days=7)
        inside = [r for r in records.records if start < r.restored_at <= end and r.ok]
        linked = [r for r in inside if r.ticket.strip()]
        label = f"{_iso(start)}..{_iso(end)}"
        if linked:
            best = max(linked, key=lambda r: r.restored_at)
            periods.append({"period": label, "record": _describe(best)})
        else:
            note = " (successful test without ticket link)" if inside else ""
            periods.append({"period": label, "record": None})
            missing.append(label + note)
    details["periods"] = periods
    if missing:
        return BackupResult(
            "DR-2",
            False,
            "no documented successful restore test (result ok, ticket linked) in " + "; ".join(missing),
            Category.PRODUCT,
            details,
        )
    newest = periods[0]["record"]
    return BackupResult(
        "DR-2", True, f"weekly restore test documented for {weeks} week(s); newest {newest}", None, details
    )


# ----------------------------------------------------------------------------- settings and runs


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


def _s3_section(value: Any, source: str, path: str, default: S3Location | None) -> tuple[S3Location, dict[str, Any]]:
    keys: tuple[str, ...] = ("bucket", "prefix", "endpoint_url", "region", "timeout_s")
    if default is None:  # the backups' own location also names its credentials
        keys += ("access_key_variable", "secret_key_variable")
    _need(isinstance(value, Mapping), source, path, "a mapping with bucket and prefix")
    for k in value:
        _need(k in keys, source, f"{path}.{k}", "one of: " + ", ".join(keys))
    bucket = value.get("bucket", default.bucket if default else None)
    _need(isinstance(bucket, str) and bool(bucket.strip()), source, f"{path}.bucket", "a bucket name")
    texts = {}
    for k in ("prefix", "endpoint_url", "region", "access_key_variable", "secret_key_variable"):
        v = value.get(k)
        _need(v is None or isinstance(v, str), source, f"{path}.{k}", "a text")
        texts[k] = v
    timeout = value.get("timeout_s", DEFAULT_TIMEOUT_S)
    _need(
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and 0 < timeout <= 60,
        source,
        f"{path}.timeout_s",
        "seconds between 0 and 60",
    )
    location = S3Location(
        bucket=str(bucket),
        prefix=texts["prefix"] or "",
        endpoint_url=texts["endpoint_url"] or (default.endpoint_url if default else None),
        region=texts["region"] or (default.region if default else None),
        timeout_s=float(timeout),
    )
    return location, texts


def _positive(value: Any, source: str, path: str) -> int:
    _need(
        isinstance(value, int) and not isinstance(value, bool) and value > 0,
        source,
        path,
        "a positive whole number",
    )
    return int(value)


def parse_backup_settings(section: Mapping[str, Any] | None, source: str) -> BackupSettings:
    """Validate the ``backups`` section of the environment file at ``source``."""
    if section is None:
        raise NotConfigured(SECTION)
    keys = ("s3", "max_age_hours", "days", "timezone", "restore")
    _need(isinstance(section, Mapping), source, SECTION, "a mapping")
    for k in section:
        _need(k in keys, source, f"{SECTION}.{k}", "one of: " + ", ".join(keys))
    location, texts = _s3_section(section.get("s3"), source, f"{SECTION}.s3", None)
    hours = section.get("max_age_hours", 24)
    _need(
        isinstance(hours, (int, float)) and not isinstance(hours, bool) and hours > 0,
        source,
        f"{SECTION}.max_age_hours",
        "a positive number of hours",
    )
    tz = section.get("timezone", "UTC")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(source, f"{SECTION}.timezone", "an IANA time zone such as UTC") from None
    restore = section.get("restore", {})
    _need(isinstance(restore, Mapping), source, f"{SECTION}.restore", "a mapping")
    rkeys = ("store", "s3", "mongodb", "max_age_days", "weeks")
    for k in restore:
        _need(k in rkeys, source, f"{SECTION}.restore.{k}", "one of: " + ", ".join(rkeys))
    store = restore.get("store", "s3")
    _need(store in ("s3", "mongodb"), source, f"{SECTION}.restore.store", "one of: s3, mongodb")
    restore_location = None
    restore_mongo = None
    if store == "s3":
        restore_location, _ = _s3_section(
            restore.get("s3", {"prefix": "restore-tests/"}), source, f"{SECTION}.restore.s3", location
        )
    else:
        mongo = restore.get("mongodb")
        path = f"{SECTION}.restore.mongodb"
        _need(isinstance(mongo, Mapping), source, path, "a mapping with uri_variable, database, collection")
        assert isinstance(mongo, Mapping)
        for k in mongo:
            _need(
                k in ("uri_variable", "database", "collection"),
                source,
                f"{path}.{k}",
                "one of: uri_variable, database, collection",
            )
        values = []
        for k, default in (("uri_variable", None), ("database", None), ("collection", "restore_tests")):
            v = mongo.get(k, default)
            _need(isinstance(v, str) and bool(v.strip()), source, f"{path}.{k}", "a non-empty text")
            values.append(str(v))
        restore_mongo = (values[0], values[1], values[2])
    days_age = restore.get("max_age_days", 30)
    _need(
        isinstance(days_age, (int, float)) and not isinstance(days_age, bool) and days_age > 0,
        source,
        f"{SECTION}.restore.max_age_days",
        "a positive number of days",
    )
    return BackupSettings(
        source=source,
        location=location,
        access_key_variable=texts["access_key_variable"],
        secret_key_variable=texts["secret_key_variable"],
        max_age=timedelta(hours=float(hours)),
        days=_positive(section.get("days", 7), source, f"{SECTION}.days"),
        timezone=str(tz),
        restore_store=store,
        restore_location=restore_location,
        restore_mongo=restore_mongo,
        restore_max_age=timedelta(days=float(days_age)),
        weeks=_positive(restore.get("weeks", 1), source, f"{SECTION}.restore.weeks"),
    )


def _client(settings: BackupSettings, location: S3Location, environ: Mapping[str, str]) -> Any:
    key = environ.get(settings.access_key_variable) if settings.access_key_variable else None
    secret = environ.get(settings.secret_key_variable) if settings.secret_key_variable else None
    return s3_client(location, key or None, secret or None)


def _guard(check_id: str, fetch: Callable[[], BackupResult]) -> BackupResult:
    try:
        return fetch()
    except ProbeError as exc:
        return BackupResult(check_id, False, exc.reason, exc.category, dict(exc.evidence))


def run_newest_backup(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """GL-2 end to end: list the backups, then :func:`check_newest_backup`."""

    def fetch() -> BackupResult:
        client = _client(settings, settings.location, environ)
        listing = list_backups(client, settings.location, now, horizon=settings.max_age + timedelta(days=1))
        return check_newest_backup(listing, now, settings.max_age)

    return _guard("GL-2", fetch)


def run_daily_backups(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """DR-1 end to end."""

    def fetch() -> BackupResult:
        client = _client(settings, settings.location, environ)
        listing = list_backups(client, settings.location, now, horizon=timedelta(days=settings.days + 2))
        return check_daily_backups(listing, now, settings.days, settings.timezone)

    return _guard("DR-1", fetch)


def fetch_restore_records(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> RestoreRecords:
    """The restore records from the configured store; raises ProbeError."""
    if settings.restore_mongo is not None:
        variable, database, collection = settings.restore_mongo
        uri = (environ.get(variable) or "").strip()
        if not uri:
            raise ProbeError(Category.CONFIG, f"restore records: variable {variable} not set")
        return restore_records_mongo(uri, database, collection, now, settings.location.timeout_s)
    assert settings.restore_location is not None
    client = _client(settings, settings.restore_location, environ)
    return restore_records_s3(client, settings.restore_location, now)


def run_last_restore(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """GL-3 end to end."""
    return _guard(
        "GL-3",
        lambda: check_last_restore(fetch_restore_records(settings, now, environ), now, settings.restore_max_age),
    )


def run_weekly_restore(settings: BackupSettings, now: datetime, environ: Mapping[str, str]) -> BackupResult:
    """DR-2 end to end."""
    return _guard(
        "DR-2",
        lambda: check_weekly_restore(fetch_restore_records(settings, now, environ), now, settings.weeks),
    )
