"""Reading backups and restore records through the S3 and Mongo probes.

Backup time convention (first that applies, per object; recorded as ``time_source``):

1. object metadata ``backup-time`` (HTTP header ``x-amz-meta-backup-time``), ISO 8601;
2. an ISO 8601 timestamp in the key, e.g. ``backups/2026-11-27T03:00:00Z.archive`` or
   ``backups/wimmelwelt-20261127T030000Z.gz``;
3. the object's ``LastModified``.

Times written by these systems without an offset are UTC (`pytest_wimmelgate.config.times`).
Metadata is read with one HEAD request per object, only for objects that can matter: those
whose ``LastModified`` is at most ``horizon`` old, plus the `HEAD_NEWEST` newest (an object
is never uploaded before its backup was taken, so ``LastModified`` bounds the backup time
from above). Keys ending in ``/`` and empty (0-byte) objects are not backups; objects whose
backup time lies after ``now`` do not exist yet from the gate's point of view (dry runs with
``--wg-now`` in the past). Both are counted in the evidence.

Restore test records, one per test, either JSON objects under an S3 prefix or documents in
a MongoDB collection, with the same fields::

    {"restored_at": "2026-11-20T10:15:00Z", "backup": "backups/2026-11-20T03:00:00Z.archive",
     "result": "ok", "ticket": "https://tickets.example/OPS-812"}

``restored_at`` (ISO 8601 text or a BSON date) is required; records that cannot be read
are skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pytest_wimmelgate.config.times import as_utc, parse_external_instant
from pytest_wimmelgate.domain.backups.model import (
    BackupListing,
    BackupObject,
    RestoreRecord,
    RestoreRecords,
    time_from_key,
)
from pytest_wimmelgate.probes import mongo, s3
from pytest_wimmelgate.probes.s3 import S3Location

META_KEY = "backup-time"
HEAD_NEWEST = 20
RESTORE_RECORDS_READ = 1000


def list_backups(
    client: Any, location: S3Location, now: datetime, horizon: timedelta = timedelta(days=9)
) -> BackupListing:
    """The backups under ``location`` with their backup time (see the module docstring).

    Raises :class:`~pytest_wimmelgate.errors.ProbeError` when S3 cannot be listed.
    """
    now = as_utc(now)
    objects = [o for o in s3.list_objects(client, location) if not o.key.endswith("/")]
    empty = [o for o in objects if o.size == 0]
    objects = [o for o in objects if o.size > 0]
    objects.sort(key=lambda o: o.last_modified, reverse=True)
    backups = []
    future = 0
    for index, obj in enumerate(objects):
        taken: datetime | None = None
        source = ""
        if index < HEAD_NEWEST or obj.last_modified >= now - horizon:
            meta = s3.object_metadata(client, location, obj.key)
            if META_KEY in meta:
                taken, source = parse_external_instant(meta[META_KEY]), "metadata"
        if taken is None:
            taken, source = time_from_key(obj.key), "key"
        if taken is None:
            taken, source = obj.last_modified, "last-modified"
        if taken > now:
            future += 1
            continue
        backups.append(BackupObject(obj.key, taken, source, obj.size))
    return BackupListing(str(location), tuple(backups), len(empty), future)


def record_from(data: Any, origin: str) -> RestoreRecord | None:
    """One restore record from a JSON object or a Mongo document; None if unreadable."""
    if not isinstance(data, Mapping):
        return None
    raw = data.get("restored_at")
    when = as_utc(raw) if isinstance(raw, datetime) else parse_external_instant(raw)
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
    for obj in s3.list_objects(client, location):
        if obj.key.endswith("/"):
            continue
        body = s3.read_object(client, location, obj.key)
        try:
            record = record_from(json.loads(body), obj.key)
        except ValueError:
            record = None
        if record is None:
            unreadable.append(obj.key)
        else:
            records.append(record)
    kept, future = _split_future(records, as_utc(now))
    return RestoreRecords(str(location), tuple(kept), tuple(unreadable), future)


def restore_records_mongo(
    uri: str, database: str, collection: str, now: datetime, timeout_s: float = mongo.DEFAULT_TIMEOUT_S
) -> RestoreRecords:
    """Restore records from a MongoDB collection, newest first; raises ProbeError."""
    found = mongo.find(
        uri,
        collection,
        database=database,
        sort=("restored_at", -1),
        limit=RESTORE_RECORDS_READ,
        timeout_s=timeout_s,
    )
    records: list[RestoreRecord] = []
    unreadable: list[str] = []
    for doc in found.documents:
        record = record_from(doc, str(doc.get("_id")))
        if record is None:
            unreadable.append(str(doc.get("_id")))
        else:
            records.append(record)
    kept, future = _split_future(records, as_utc(now))
    return RestoreRecords(found.where, tuple(kept), tuple(unreadable), future)
