"""GL-2, GL-3, DR-1, DR-2 judged on what the store returned (runbook 2.3, 5, 8).

Each ``check_*`` evaluates data and returns a `BackupResult`; ``now`` is the gate's clock
(``--wg-now``), never the wall clock.

DR-1 counts calendar days in ``backups.timezone`` (default ``UTC``): it needs a backup on
each of the 7 *complete* days before the day of ``now`` (today's backup may not have run
yet; GL-2 covers freshness). A restore record whose ``result`` is ``ok`` marks a successful
test; anything else is a failed test. GL-3: the newest successful test is younger than 30
days and no later test failed. DR-2 ("wöchentlich Restore-Test dokumentieren"): in each of
the last ``weeks`` rolling 7-day periods before ``now`` (default 1) there is a successful
test whose record links a ticket (runbook: "Ergebnisse in Ticketing verlinken").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pytest_wimmelgate.config.times import as_utc
from pytest_wimmelgate.domain.backups.model import (
    BackupListing,
    BackupResult,
    RestoreRecord,
    RestoreRecords,
    describe_age,
    iso,
)
from pytest_wimmelgate.errors import Category


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
    now = as_utc(now)
    details = _listing_details(listing)
    details["max_age_hours"] = max_age.total_seconds() / 3600
    newest = listing.newest()
    if newest is None:
        return BackupResult("GL-2", False, f"no backup object under {listing.where}", Category.NO_DATA, details)
    age = now - newest.taken_at
    details.update(
        newest_key=newest.key,
        newest_time=iso(newest.taken_at),
        time_source=newest.time_source,
        age_hours=round(age.total_seconds() / 3600, 2),
    )
    limit = f"{max_age.total_seconds() / 3600:g} h"
    text = (
        f"newest backup {newest.key} taken {iso(newest.taken_at)} ({newest.time_source}), "
        f"{describe_age(now, newest.taken_at)} old"
    )
    if age >= max_age:
        return BackupResult("GL-2", False, f"{text}, limit {limit}", Category.PRODUCT, details)
    return BackupResult("GL-2", True, f"{text} (< {limit})", None, details)


def check_daily_backups(listing: BackupListing, now: datetime, days: int = 7, tz: str = "UTC") -> BackupResult:
    """DR-1: a backup on each of the ``days`` complete local days before ``now``'s day."""
    zone = ZoneInfo(tz)
    now = as_utc(now)
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
    return f"{iso(record.restored_at)} result {record.result or '?'}{ticket} ({record.origin})"


def check_last_restore(records: RestoreRecords, now: datetime, max_age: timedelta = timedelta(days=30)) -> BackupResult:
    """GL-3: newest successful restore test younger than ``max_age``; none failed since."""
    now = as_utc(now)
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
    text = f"last restore test {_describe(good)} is {describe_age(now, good.restored_at)} old"
    if age >= max_age:
        return BackupResult("GL-3", False, f"{text}, limit {limit}{skipped}", Category.PRODUCT, details)
    return BackupResult("GL-3", True, f"{text} (< {limit}){skipped}", None, details)


def check_weekly_restore(records: RestoreRecords, now: datetime, weeks: int = 1) -> BackupResult:
    """DR-2: a successful, ticket-linked restore test in each of the last ``weeks`` weeks."""
    now = as_utc(now)
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
        label = f"{iso(start)}..{iso(end)}"
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
