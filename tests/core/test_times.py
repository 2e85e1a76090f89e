"""The one ISO 8601 instant parser: a time without offset is an error where a person wrote
it, and UTC where an external system wrote it — the same in every module that reads one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pytest_wimmelgate.config.times import as_utc, parse_external_instant, parse_instant
from pytest_wimmelgate.core.run import parse_instant as run_parse_instant
from pytest_wimmelgate.domain.backups import time_from_key
from pytest_wimmelgate.domain.backups.store import record_from
from pytest_wimmelgate.errors import ConfigError

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-11-24T12:00:00Z", "2026-11-24T13:00:00+01:00", " 2026-11-24T12:00:00.000Z ", "20261124T120000Z"],
)
def test_a_time_with_offset_is_aware_utc(text: str) -> None:
    assert parse_instant(text, "env.yaml", "approvals[0].at") == NOON
    assert parse_external_instant(text) == NOON


def test_a_person_must_write_an_offset() -> None:
    with pytest.raises(ConfigError) as info:
        parse_instant("2026-11-24T12:00:00", "env.yaml", "calendar.at")
    assert (info.value.source, info.value.key_path) == ("env.yaml", "calendar.at")
    assert info.value.expected == "a time with an offset or Z (a time without one is ambiguous)"
    with pytest.raises(ConfigError) as info:
        run_parse_instant("2026-11-24", "--wg-now")
    assert str(info.value).startswith("--wg-now: a time with an offset or Z")


def test_a_bad_time_is_an_error_that_does_not_quote_it() -> None:
    with pytest.raises(ConfigError) as info:
        parse_instant("next Tuesday Secret-Token-99", "--wg-now")
    assert str(info.value) == "--wg-now: an ISO 8601 time like 2026-11-24T20:30:00+01:00"


def test_an_external_time_without_offset_is_utc_and_garbage_is_none() -> None:
    assert parse_external_instant("2026-11-24T12:00:00") == NOON
    assert parse_external_instant("yesterday") is None
    assert parse_external_instant(None) is None
    assert parse_external_instant(1764000000) is None
    assert as_utc(datetime(2026, 11, 24, 12, 0)) == NOON
    assert as_utc(datetime(2026, 11, 24, 13, 0, tzinfo=timezone(timedelta(hours=1)))).tzinfo is UTC


def test_backup_keys_and_restore_records_follow_the_external_policy() -> None:
    assert time_from_key("backups/2026-11-24T12-00-00.archive") == NOON
    record = record_from({"restored_at": "2026-11-24T12:00:00", "result": "ok"}, "r.json")
    assert record is not None and record.restored_at == NOON
    naive_bson = record_from({"restored_at": datetime(2026, 11, 24, 12, 0), "result": "ok"}, "id")
    assert naive_bson is not None and naive_bson.restored_at == NOON
    assert record_from({"restored_at": "soon"}, "r.json") is None
