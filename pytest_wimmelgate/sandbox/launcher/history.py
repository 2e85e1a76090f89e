"""The operational history a real environment has and a fresh sandbox lacks.

At start the sandbox gets what its operators would have produced by then: one nightly
backup per day for the last ``days`` days (a real JSON export of the database, with the
night's time in the ``backup-time`` metadata, the convention `pytest_wimmelgate.domain.backups`
reads), a documented restore test a few days ago, and its migrations recorded as applied
in the ``changelog`` collection as migrate-mongo does. Gates then measure this data
through the same S3 and MongoDB protocols they use in staging.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

MIGRATIONS = Path(__file__).parent.parent / "migrations"
BACKUP_PREFIX = "backups/"
RESTORE_PREFIX = "restore-tests/"
NIGHTLY = (3, 0)
ZONE = ZoneInfo("Europe/Berlin")


def seed(info: Any, *, now: datetime | None = None, days: int = 8, s3: Any = None) -> dict[str, int]:
    """Write the backup history, a restore record and applied migrations; returns counts.

    ``s3``: a boto3 S3 client for the sandbox's storage to reuse (one is made otherwise).
    """
    import boto3
    import botocore.config
    import pymongo

    now = now or datetime.now(UTC)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(info.mongodb_uri, serverSelectionTimeoutMS=3000)
    try:
        db = client.get_default_database()
        export = json.dumps({name: db[name].count_documents({}) for name in db.list_collection_names()})
        applied = [{"fileName": p.name, "appliedAt": now - timedelta(days=20)} for p in sorted(MIGRATIONS.glob("*.js"))]
        if applied and db["changelog"].count_documents({}) == 0:
            db["changelog"].insert_many(applied)
    finally:
        client.close()
    s3 = s3 or boto3.client(
        "s3",
        endpoint_url=info.s3_endpoint,
        region_name=info.s3_region,
        aws_access_key_id=info.s3_access_key_id,
        aws_secret_access_key=info.s3_secret_access_key,
        config=botocore.config.Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2}),
    )
    nights = _nights(now, days)
    for night in nights:
        stamp = night.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        s3.put_object(
            Bucket=info.s3_bucket,
            Key=f"{BACKUP_PREFIX}wimmelwelt-{stamp}.json",
            Body=export.encode(),
            Metadata={"backup-time": night.isoformat()},
        )
    restored = nights[-4] + timedelta(hours=7)
    record = {
        "restored_at": restored.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "backup": f"{BACKUP_PREFIX}wimmelwelt-{nights[-4].astimezone(UTC):%Y%m%dT%H%M%SZ}.json",
        "result": "ok",
        "ticket": "https://tickets.wimmelwelt.invalid/OPS-SANDBOX-1",
    }
    s3.put_object(
        Bucket=info.s3_bucket,
        Key=f"{RESTORE_PREFIX}{restored:%Y%m%d}.json",
        Body=json.dumps(record).encode(),
        ContentType="application/json",
    )
    return {"backups": len(nights), "restore_tests": 1, "migrations": len(applied)}


def _nights(now: datetime, days: int) -> list[datetime]:
    """The nightly backup times (03:00 Europe/Berlin) of the last ``days`` days, oldest first."""
    local_today = now.astimezone(ZONE).date()
    nights = []
    for back in range(days, -1, -1):
        day = local_today - timedelta(days=back)
        night = datetime(day.year, day.month, day.day, *NIGHTLY, tzinfo=ZONE)
        if night <= now:
            nights.append(night)
    return nights
