"""GL-2, GL-3, DR-1, DR-2 against a real S3 (moto server) and a real MongoDB wire server
(SecantusDB process). Backup ages come from the documented ``backup-time`` metadata or the
timestamp in the key, because moto stamps LastModified with the real upload time."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
import pytest

from pytest_wimmelgate.domain.backups import (
    BackupSettings,
    check_daily_backups,
    list_backups,
    parse_backup_settings,
    run_daily_backups,
    run_last_restore,
    run_newest_backup,
    run_weekly_restore,
    time_from_key,
)
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured
from pytest_wimmelgate.probes.s3 import S3Location, s3_client

from .conftest import NOW, S3Server, free_port


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def put_backup(s3: S3Server, bucket: str, key: str, taken: datetime | None, body: bytes = b"archive") -> None:
    meta = {"backup-time": iso(taken)} if taken else {}
    s3.client().put_object(Bucket=bucket, Key=key, Body=body, Metadata=meta)


def put_restore(s3: S3Server, bucket: str, key: str, record: dict[str, Any]) -> None:
    s3.client().put_object(Bucket=bucket, Key=key, Body=json.dumps(record).encode())


def settings_for(s3: S3Server, bucket: str, **extra: Any) -> BackupSettings:
    section: dict[str, Any] = {
        "s3": {
            "bucket": bucket,
            "prefix": "backups/",
            "endpoint_url": s3.endpoint_url,
            "region": s3.region,
            "timeout_s": 2,
            "access_key_variable": "BACKUP_AWS_ACCESS_KEY_ID",
            "secret_key_variable": "BACKUP_AWS_SECRET_ACCESS_KEY",
        },
        **extra,
    }
    return parse_backup_settings(section, "environments/production.yaml")


@pytest.fixture
def bucket(s3_server: S3Server, unique: str) -> str:
    return s3_server.bucket(unique)


# ----------------------------------------------------------------------------- GL-2


def test_gl2_fresh_backup_passes(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "backups/a.archive", NOW - timedelta(hours=33))
    put_backup(s3_server, bucket, "backups/b.archive", NOW - timedelta(hours=9))
    result = run_newest_backup(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert result.ok, result.reason
    assert result.reason == (
        "newest backup backups/b.archive taken 2026-11-28T03:00:00Z (metadata), 9.0 h old (< 24 h)"
    )
    assert result.evidence()["time_source"] == "metadata"


def test_gl2_stale_backup_fails(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "backups/a.archive", NOW - timedelta(hours=33))
    result = run_newest_backup(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == (
        "newest backup backups/a.archive taken 2026-11-27T03:00:00Z (metadata), 33.0 h old, limit 24 h"
    )


def test_gl2_key_timestamp_is_the_fallback_and_empty_objects_do_not_count(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "backups/2026-11-28T02:00:00Z.archive", None)
    put_backup(s3_server, bucket, "backups/2026-11-28T06:00:00Z.archive", None, body=b"")  # broken, empty
    put_backup(s3_server, bucket, "backups/", None, body=b"")  # folder marker
    result = run_newest_backup(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert result.ok
    assert "backups/2026-11-28T02:00:00Z.archive taken 2026-11-28T02:00:00Z (key), 10.0 h old" in result.reason
    assert result.evidence()["empty_objects_ignored"] == 1


def test_gl2_last_modified_is_the_last_fallback(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "backups/nightly.archive", None)
    now = datetime.now(UTC) + timedelta(hours=1)
    result = run_newest_backup(settings_for(s3_server, bucket), now, s3_server.environ)
    assert result.ok
    assert result.evidence()["time_source"] == "last-modified"


def test_gl2_backups_after_the_gate_clock_do_not_exist_yet(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "backups/old.archive", NOW - timedelta(days=3))
    put_backup(s3_server, bucket, "backups/future.archive", NOW + timedelta(hours=2))
    result = run_newest_backup(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok
    assert "backups/old.archive" in result.reason and "3.0 days old" in result.reason
    assert result.evidence()["objects_after_now_ignored"] == 1


def test_gl2_empty_prefix_is_no_data(s3_server: S3Server, bucket: str) -> None:
    put_backup(s3_server, bucket, "elsewhere/a.archive", NOW - timedelta(hours=1))
    result = run_newest_backup(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.NO_DATA
    assert result.reason == f"no backup object under s3://{bucket}/backups/"


def test_gl2_unreachable_s3_is_infrastructure(s3_server: S3Server) -> None:
    port = free_port()
    settings = parse_backup_settings(
        {
            "s3": {
                "bucket": "b",
                "prefix": "backups/",
                "endpoint_url": f"http://127.0.0.1:{port}",
                "region": "eu-central-1",
                "timeout_s": 0.5,
                "access_key_variable": "BACKUP_AWS_ACCESS_KEY_ID",
                "secret_key_variable": "BACKUP_AWS_SECRET_ACCESS_KEY",
            }
        },
        "env.yaml",
    )
    result = run_newest_backup(settings, NOW, s3_server.environ)
    assert not result.ok and result.category is Category.INFRASTRUCTURE
    assert result.reason == f"list s3://b/backups/ at http://127.0.0.1:{port}: EndpointConnectionError"


def test_gl2_without_credentials_is_configuration(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    section = {"s3": {"bucket": "b", "endpoint_url": s3_server.endpoint_url, "region": s3_server.region}}
    result = run_newest_backup(parse_backup_settings(section, "env.yaml"), NOW, {})
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason.endswith(": no AWS credentials configured")


def test_gl2_missing_bucket_is_configuration(s3_server: S3Server) -> None:
    result = run_newest_backup(settings_for(s3_server, "no-such-bucket-here"), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason.endswith(": NoSuchBucket")
    assert s3_server.secret_key not in str(result.evidence())


# ----------------------------------------------------------------------------- DR-1


def test_dr1_a_backup_each_day_passes(s3_server: S3Server, bucket: str) -> None:
    for day in range(1, 8):
        put_backup(s3_server, bucket, f"backups/d{day}.archive", NOW.replace(hour=3) - timedelta(days=day))
    result = run_daily_backups(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert result.ok, result.reason
    assert result.reason == "a backup on each of the 7 days 2026-11-21..2026-11-27 (UTC)"


def test_dr1_a_missing_day_fails_naming_it(s3_server: S3Server, bucket: str) -> None:
    for day in (1, 2, 4, 5, 6, 7):
        put_backup(s3_server, bucket, f"backups/d{day}.archive", NOW.replace(hour=3) - timedelta(days=day))
    result = run_daily_backups(settings_for(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == "no backup on 1 of 7 days 2026-11-21..2026-11-27 (UTC): 2026-11-25"


def test_dr1_days_follow_the_configured_timezone(s3_server: S3Server, bucket: str) -> None:
    client = s3_server.client()
    for day in range(1, 8):
        taken = NOW.replace(hour=23, minute=30) - timedelta(days=day + 1)  # 00:30 Berlin the next day
        client.put_object(Bucket=bucket, Key=f"backups/{iso(taken)}.archive", Body=b"x")
    location = S3Location(bucket, "backups/", s3_server.endpoint_url, s3_server.region)
    listing = list_backups(s3_client(location, s3_server.access_key, s3_server.secret_key), location, NOW)
    assert check_daily_backups(listing, NOW, 7, "Europe/Berlin").ok
    utc_days = check_daily_backups(listing, NOW, 7, "UTC")
    assert not utc_days.ok and utc_days.reason.endswith("2026-11-27")


# ----------------------------------------------------------------------------- GL-3 / DR-2 in S3


def restore_settings(s3: S3Server, bucket: str, **restore: Any) -> BackupSettings:
    return settings_for(s3, bucket, restore={"store": "s3", "s3": {"prefix": "restore-tests/"}, **restore})


def test_gl3_and_dr2_pass_with_a_recent_documented_restore(s3_server: S3Server, bucket: str) -> None:
    put_restore(
        s3_server,
        bucket,
        "restore-tests/2026-10-01.json",
        {"restored_at": "2026-10-01T10:00:00Z", "backup": "backups/x", "result": "ok"},
    )
    put_restore(
        s3_server,
        bucket,
        "restore-tests/2026-11-24.json",
        {
            "restored_at": "2026-11-24T10:00:00Z",
            "backup": "backups/2026-11-24T03:00:00Z.archive",
            "result": "ok",
            "ticket": "https://tickets.example/OPS-812",
        },
    )
    settings = restore_settings(s3_server, bucket)
    gl3 = run_last_restore(settings, NOW, s3_server.environ)
    assert gl3.ok, gl3.reason
    assert gl3.reason == (
        "last restore test 2026-11-24T10:00:00Z result ok, ticket https://tickets.example/OPS-812 "
        "(restore-tests/2026-11-24.json) is 4.1 days old (< 30 days)"
    )
    dr2 = run_weekly_restore(settings, NOW, s3_server.environ)
    assert dr2.ok, dr2.reason


def test_gl3_old_restore_test_fails(s3_server: S3Server, bucket: str) -> None:
    put_restore(s3_server, bucket, "restore-tests/a.json", {"restored_at": "2026-10-01T10:00:00Z", "result": "ok"})
    put_restore(s3_server, bucket, "restore-tests/broken.json", {"when": "yesterday"})
    result = run_last_restore(restore_settings(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == (
        "last restore test 2026-10-01T10:00:00Z result ok (restore-tests/a.json) is 58.1 days old, "
        "limit 30 days (1 unreadable records skipped)"
    )


def test_gl3_newest_failed_restore_fails(s3_server: S3Server, bucket: str) -> None:
    put_restore(s3_server, bucket, "restore-tests/a.json", {"restored_at": "2026-11-20T10:00:00Z", "result": "ok"})
    put_restore(
        s3_server,
        bucket,
        "restore-tests/b.json",
        {"restored_at": "2026-11-27T10:00:00Z", "result": "failed", "ticket": "OPS-900"},
    )
    result = run_last_restore(restore_settings(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok
    assert result.reason == (
        "newest restore test failed: 2026-11-27T10:00:00Z result failed, ticket OPS-900 (restore-tests/b.json)"
    )


def test_no_restore_record_is_no_data(s3_server: S3Server, bucket: str) -> None:
    result = run_last_restore(restore_settings(s3_server, bucket), NOW, s3_server.environ)
    assert not result.ok and result.category is Category.NO_DATA
    assert result.reason == f"no restore test record in s3://{bucket}/restore-tests/"


def test_dr2_needs_a_ticket_link_each_week(s3_server: S3Server, bucket: str) -> None:
    put_restore(s3_server, bucket, "restore-tests/a.json", {"restored_at": "2026-11-26T10:00:00Z", "result": "ok"})
    put_restore(
        s3_server,
        bucket,
        "restore-tests/b.json",
        {"restored_at": "2026-11-18T10:00:00Z", "result": "ok", "ticket": "OPS-1"},
    )
    one = run_weekly_restore(restore_settings(s3_server, bucket), NOW, s3_server.environ)
    assert not one.ok
    assert one.reason == (
        "no documented successful restore test (result ok, ticket linked) in "
        "2026-11-21T12:00:00Z..2026-11-28T12:00:00Z (successful test without ticket link)"
    )
    put_restore(
        s3_server,
        bucket,
        "restore-tests/a.json",
        {"restored_at": "2026-11-26T10:00:00Z", "result": "ok", "ticket": "OPS-2"},
    )
    two = run_weekly_restore(restore_settings(s3_server, bucket, weeks=2), NOW, s3_server.environ)
    assert two.ok, two.reason
    three = run_weekly_restore(restore_settings(s3_server, bucket, weeks=3), NOW, s3_server.environ)
    assert not three.ok
    assert three.reason.endswith("2026-11-07T12:00:00Z..2026-11-14T12:00:00Z")


# ----------------------------------------------------------------------------- restore records in MongoDB


def test_restore_records_in_mongodb(mongo_uri: str, s3_server: S3Server, unique: str) -> None:
    client: Any = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=3000)
    try:
        client[unique]["restore_tests"].insert_many(
            [
                {
                    "restored_at": datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
                    "backup": "backups/x",
                    "result": "ok",
                    "ticket": "https://tickets.example/OPS-7",
                },
                {"restored_at": "2026-09-01T09:00:00Z", "result": "ok"},
            ]
        )
    finally:
        client.close()
    environ = {**s3_server.environ, "OPS_MONGODB_URI": f"{mongo_uri}/{unique}"}
    settings = settings_for(
        s3_server,
        "unused",
        restore={"store": "mongodb", "mongodb": {"uri_variable": "OPS_MONGODB_URI", "database": unique}},
    )
    gl3 = run_last_restore(settings, NOW, environ)
    assert gl3.ok, gl3.reason
    assert gl3.reason.startswith(
        "last restore test 2026-11-25T09:00:00Z result ok, ticket https://tickets.example/OPS-7"
    )
    assert gl3.evidence()["where"] == f"mongodb 127.0.0.1 {unique}.restore_tests"
    assert run_weekly_restore(settings, NOW, environ).ok
    stale = run_last_restore(settings, NOW + timedelta(days=40), environ)
    assert not stale.ok and "limit 30 days" in stale.reason


def test_unreachable_mongodb_is_infrastructure(s3_server: S3Server) -> None:
    port = free_port()
    settings = settings_for(
        s3_server,
        "unused",
        restore={"store": "mongodb", "mongodb": {"uri_variable": "OPS_MONGODB_URI", "database": "ops"}},
    )
    settings = dataclasses.replace(settings, location=S3Location("unused", timeout_s=0.5))
    environ = {"OPS_MONGODB_URI": f"mongodb://ops:Very-Secret-Pw-1@127.0.0.1:{port}/ops"}
    result = run_last_restore(settings, NOW, environ)
    assert not result.ok and result.category is Category.INFRASTRUCTURE
    assert result.reason == "mongodb 127.0.0.1 ops.restore_tests: ServerSelectionTimeoutError"
    assert "Very-Secret" not in str(result.evidence())


def test_unset_mongodb_variable_is_configuration(s3_server: S3Server) -> None:
    settings = settings_for(
        s3_server,
        "unused",
        restore={"store": "mongodb", "mongodb": {"uri_variable": "OPS_MONGODB_URI", "database": "ops"}},
    )
    result = run_last_restore(settings, NOW, {})
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason == "restore records: variable OPS_MONGODB_URI not set"


# ----------------------------------------------------------------------------- helpers and config


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("backups/2026-11-27T03:00:00Z.archive", "2026-11-27T03:00:00Z"),
        ("backups/wimmelwelt-20261127T030000Z.gz", "2026-11-27T03:00:00Z"),
        ("backups/2026-11-27T04:00:00+01:00.archive", "2026-11-27T03:00:00Z"),
        ("backups/2026-11-27T03-00-00.archive", "2026-11-27T03:00:00Z"),
        ("backups/nightly.archive", None),
        ("backups/2026-13-45T99:00:00Z.archive", None),
    ],
)
def test_time_from_key(key: str, expected: str | None) -> None:
    found = time_from_key(key)
    assert (iso(found) if found else None) == expected


@pytest.mark.parametrize(
    ("section", "key_path"),
    [
        ({}, "backups.s3"),
        ({"s3": {"prefix": "x/"}}, "backups.s3.bucket"),
        ({"s3": {"bucket": "b", "endpoint": "x"}}, "backups.s3.endpoint"),
        ({"s3": {"bucket": "b"}, "max_age_hours": "a day"}, "backups.max_age_hours"),
        ({"s3": {"bucket": "b"}, "max_age_hours": True}, "backups.max_age_hours"),
        ({"s3": {"bucket": "b"}, "timezone": "Mars/Base"}, "backups.timezone"),
        ({"s3": {"bucket": "b"}, "restore": {"store": "ftp"}}, "backups.restore.store"),
        ({"s3": {"bucket": "b"}, "restore": {"store": "mongodb"}}, "backups.restore.mongodb"),
        (
            {"s3": {"bucket": "b"}, "restore": {"store": "mongodb", "mongodb": {"database": "ops"}}},
            "backups.restore.mongodb.uri_variable",
        ),
        ({"s3": {"bucket": "b"}, "restore": {"weeks": 0}}, "backups.restore.weeks"),
        (
            {"s3": {"bucket": "b"}, "restore": {"s3": {"access_key_variable": "X"}}},
            "backups.restore.s3.access_key_variable",
        ),
    ],
)
def test_bad_backup_settings(section: dict[str, Any], key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_backup_settings(section, "environments/production.yaml")
    assert info.value.key_path == key_path
    assert str(info.value).startswith(f"environments/production.yaml: {key_path}: ")


def test_unknown_key_names_the_allowed_keys_and_not_the_value() -> None:
    section = {"s3": {"bucket": "b", "endpoint": "https://user:S3cret-Value@s3.example"}}
    with pytest.raises(ConfigError) as info:
        parse_backup_settings(section, "env.yaml")
    assert info.value.expected == (
        "unknown key 'endpoint' (expected one of: access_key_variable, bucket, endpoint_url, prefix, region, "
        "secret_key_variable, timeout_s)"
    )
    assert "S3cret" not in str(info.value)


def test_numbers_written_as_text_are_numbers() -> None:
    """A ``${VAR}`` placeholder resolves to a text: "24" is 24 hours, "0.5" half a second."""
    section = {
        "s3": {"bucket": "b", "timeout_s": "0.5"},
        "max_age_hours": "36",
        "days": "5",
        "restore": {"max_age_days": "14", "weeks": "2"},
    }
    settings = parse_backup_settings(section, "env.yaml")
    assert settings.location.timeout_s == 0.5
    assert settings.max_age == timedelta(hours=36)
    assert (settings.days, settings.weeks, settings.restore_max_age) == (5, 2, timedelta(days=14))
    with pytest.raises(ConfigError) as info:
        parse_backup_settings({"s3": {"bucket": "b"}, "days": "1.5"}, "env.yaml")
    assert info.value.key_path == "backups.days"


def test_absent_backup_section_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        parse_backup_settings(None, "env.yaml")
