"""CW-1 / CW-2: window and freeze edges, both DST switches of 2026, approvals, config errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from pytest_wimmelgate.core.run import parse_instant
from pytest_wimmelgate.domain.approvals import parse_approvals
from pytest_wimmelgate.domain.calendar import (
    Calendar,
    check_freeze,
    check_window,
    in_freeze,
    in_window,
    next_window_start,
    parse_calendar,
)
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured

PROD_CALENDAR = """
calendar:
  timezone: Europe/Berlin
  windows: [{days: [tue, thu], start: "20:00", end: "22:00"}]
  freeze: [{days: [mon, tue, wed, thu, fri, sat, sun], start: "08:00", end: "18:00"}]
"""


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return parse_calendar(yaml.safe_load(PROD_CALENDAR)["calendar"], "environments/production.yaml")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Tuesday 2026-11-24 is in winter time (CET, UTC+1): local 20:00 is 19:00 UTC.
@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        ("2026-11-24T18:59:59", False),  # 19:59:59 local
        ("2026-11-24T19:00:00", True),  # 20:00:00 local: start is inside
        ("2026-11-24T20:59:59", True),  # 21:59:59 local
        ("2026-11-24T21:00:00", False),  # 22:00:00 local: end is outside
        ("2026-11-26T19:30:00", True),  # Thursday
        ("2026-11-25T19:30:00", False),  # Wednesday
    ],
)
def test_window_edges_in_winter(cal: Calendar, instant: str, inside: bool) -> None:
    assert (in_window(cal, utc(instant)) is not None) is inside


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        ("2026-07-14T17:59:59", False),  # Tuesday in summer (CEST, UTC+2): 19:59:59 local
        ("2026-07-14T18:00:00", True),  # 20:00 local
        ("2026-07-14T19:00:00", True),  # 21:00 local; in winter this instant would be 20:00
        ("2026-07-14T19:59:59", True),
        ("2026-07-14T20:00:00", False),  # 22:00 local
        ("2026-01-13T19:00:00", True),  # Tuesday in winter: 20:00 CET
        ("2026-01-13T18:00:00", False),  # 19:00 CET
    ],
)
def test_utc_instant_maps_to_winter_and_summer_time(cal: Calendar, instant: str, inside: bool) -> None:
    assert (in_window(cal, utc(instant)) is not None) is inside


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        # Tuesday before the March switch: CET
        ("2026-03-24T18:59:59", False),
        ("2026-03-24T19:00:00", True),
        ("2026-03-24T20:59:59", True),
        ("2026-03-24T21:00:00", False),
        # Tuesday right after the switch of Sunday 2026-03-29: CEST, 20:00 local = 18:00 UTC
        ("2026-03-31T17:59:59", False),
        ("2026-03-31T18:00:00", True),
        ("2026-03-31T19:59:59", True),
        ("2026-03-31T20:00:00", False),
        # Tuesday before the October switch: still CEST
        ("2026-10-20T18:00:00", True),
        ("2026-10-20T17:59:59", False),
        # Tuesday right after the switch of Sunday 2026-10-25: CET again, 20:00 local = 19:00 UTC
        ("2026-10-27T18:59:59", False),
        ("2026-10-27T19:00:00", True),
        ("2026-10-27T20:59:59", True),
        ("2026-10-27T21:00:00", False),
    ],
)
def test_window_on_tuesdays_around_both_dst_switches(cal: Calendar, instant: str, inside: bool) -> None:
    assert (in_window(cal, utc(instant)) is not None) is inside


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        # Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); local 20:00 = 18:00 UTC
        ("2026-03-29T17:59:59", False),
        ("2026-03-29T18:00:00", True),
        ("2026-03-29T19:59:59", True),
        ("2026-03-29T20:00:00", False),
        # Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); local 20:00 = 19:00 UTC
        ("2026-10-25T18:59:59", False),
        ("2026-10-25T19:00:00", True),
        ("2026-10-25T20:59:59", True),
        ("2026-10-25T21:00:00", False),
    ],
)
def test_sunday_window_on_both_switch_days(instant: str, inside: bool) -> None:
    cal = parse_calendar({"windows": [{"days": ["sun"], "start": "20:00", "end": "22:00"}]}, "env.yaml")
    assert (in_window(cal, utc(instant)) is not None) is inside


@pytest.mark.parametrize(
    ("instant", "inside"),
    [
        ("2026-11-23T06:59:59", False),  # Monday 07:59:59 CET
        ("2026-11-23T07:00:00", True),  # 08:00 CET
        ("2026-11-23T16:59:59", True),  # 17:59:59 CET
        ("2026-11-23T17:00:00", False),  # 18:00 CET
        ("2026-03-29T05:59:59", False),  # switch day, 07:59:59 CEST
        ("2026-03-29T06:00:00", True),  # 08:00 CEST
        ("2026-03-29T15:59:59", True),  # 17:59:59 CEST
        ("2026-03-29T16:00:00", False),  # 18:00 CEST
        ("2026-10-25T06:59:59", False),  # switch day, 07:59:59 CET
        ("2026-10-25T07:00:00", True),  # 08:00 CET
        ("2026-10-25T16:59:59", True),
        ("2026-10-25T17:00:00", False),
    ],
)
def test_freeze_edges(cal: Calendar, instant: str, inside: bool) -> None:
    assert (in_freeze(cal, utc(instant)) is not None) is inside


# ----------------------------------------------------------------------------- CW-1


def test_cw1_inside_window_passes(cal: Calendar) -> None:
    result = check_window(cal, utc("2026-11-24T19:30:00"), ())
    assert result.ok and result.used == ()
    assert result.reason == (
        "inside release window tue/thu 20:00-22:00 Europe/Berlin (now Tue 2026-11-24 20:30:00 CET)"
    )


def test_cw1_outside_window_without_approval_fails(cal: Calendar) -> None:
    result = check_window(cal, utc("2026-11-23T10:00:00"), parse_approvals(["product-owner:Anna"]))
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason == (
        "outside release windows tue/thu 20:00-22:00 Europe/Berlin (now Mon 2026-11-23 11:00:00 CET; "
        "next window Tue 2026-11-24 20:00:00 CET); override needs product-owner and on-call approval: "
        "missing approval on-call:NAME"
    )
    assert result.evidence()["next_window_utc"] == "2026-11-24T19:00:00Z"


def test_cw1_override_by_product_owner_and_on_call(cal: Calendar) -> None:
    approvals = parse_approvals(["product-owner:Anna", "on-call:Ben", "release-captain:Cem"])
    result = check_window(cal, utc("2026-11-23T10:00:00"), approvals)
    assert result.ok
    assert [str(a) for a in result.used] == ["product-owner:Anna", "on-call:Ben"]
    assert result.reason.endswith("override approved by product-owner:Anna and on-call:Ben")
    assert result.evidence()["approvals_used"] == ["product-owner:Anna", "on-call:Ben"]


def test_cw1_override_needs_two_people(cal: Calendar) -> None:
    result = check_window(cal, utc("2026-11-23T10:00:00"), parse_approvals(["product-owner:Anna", "on-call:anna"]))
    assert not result.ok
    assert "product-owner and on-call are the same person (Anna)" in result.reason


def test_next_window_start_crosses_the_dst_switch(cal: Calendar) -> None:
    # Friday 2026-10-23 (CEST) -> next window Tuesday 2026-10-27 20:00 CET = 19:00 UTC
    assert next_window_start(cal, utc("2026-10-23T12:00:00")) == utc("2026-10-27T19:00:00")


def test_no_windows_means_any_time() -> None:
    cal = parse_calendar({"timezone": "Europe/Berlin"}, "environments/staging.yaml")
    assert check_window(cal, utc("2026-11-23T10:00:00"), ()).ok
    assert check_freeze(cal, utc("2026-11-23T10:00:00"), ()).reason == (
        "no change freeze configured for this environment"
    )


# ----------------------------------------------------------------------------- CW-2


def test_cw2_outside_freeze_passes(cal: Calendar) -> None:
    result = check_freeze(cal, utc("2026-11-24T19:30:00"), ())
    assert result.ok
    assert result.reason.startswith("outside change freeze mon-sun 08:00-18:00 Europe/Berlin")


def test_cw2_inside_freeze_without_incident_approval_fails(cal: Calendar) -> None:
    result = check_freeze(cal, utc("2026-11-24T10:00:00"), parse_approvals(["incident:INC-4711"]))
    assert not result.ok
    assert result.reason == (
        "inside change freeze mon-sun 08:00-18:00 Europe/Berlin (now Tue 2026-11-24 11:00:00 CET, "
        "until Tue 2026-11-24 18:00:00 CET); an incident release needs approvals incident:REF and "
        "on-call:NAME, missing on-call:NAME"
    )


def test_cw2_incident_release_with_on_call(cal: Calendar) -> None:
    result = check_freeze(cal, utc("2026-11-24T10:00:00"), parse_approvals(["incident:INC-4711", "on-call:Ben"]))
    assert result.ok
    assert result.reason.endswith("incident release INC-4711 approved by on-call:Ben")
    assert result.evidence()["approvals_used"] == ["incident:INC-4711", "on-call:Ben"]
    assert result.evidence()["incident"] == "INC-4711"


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("section", "key_path", "expected"),
    [
        (
            {"windows": [{"days": ["tue"], "start": "22:00", "end": "20:00"}]},
            "calendar.windows[0].end",
            "a time after start 22:00 (write a span over midnight as two spans)",
        ),
        (
            {"windows": [{"days": ["tue"], "start": "20:00", "end": "20:00"}]},
            "calendar.windows[0].end",
            "a time after start 20:00 (write a span over midnight as two spans)",
        ),
        (
            {"windows": [{"days": ["tue", "di"], "start": "20:00", "end": "22:00"}]},
            "calendar.windows[0].days[1]",
            "one of: mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            {"timezone": "Europe/Berlinn"},
            "calendar.timezone",
            "an IANA time zone such as Europe/Berlin (unknown zone)",
        ),
        (
            {"freeze": [{"days": ["mon"], "start": "25:00", "end": "26:00"}]},
            "calendar.freeze[0].start",
            'a quoted time "HH:MM" or "HH:MM:SS" from 00:00 to 23:59:59',
        ),
        (
            {"freeze": [{"days": ["mon"], "start": "8", "end": "18:00"}]},
            "calendar.freeze[0].start",
            'a quoted time "HH:MM" or "HH:MM:SS"',
        ),
        (
            {"windows": [{"days": [], "start": "20:00", "end": "22:00"}]},
            "calendar.windows[0].days",
            "a non-empty list of: mon, tue, wed, thu, fri, sat, sun",
        ),
        (
            {"windows": [{"days": ["tue"], "start": "20:00", "end": "22:00", "tz": "UTC"}]},
            "calendar.windows[0].tz",
            "unknown key 'tz' (expected one of: days, end, start)",
        ),
        ({"window": []}, "calendar.window", "unknown key 'window' (expected one of: freeze, timezone, windows)"),
    ],
)
def test_bad_calendar_raises_config_error(section: dict[str, Any], key_path: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_calendar(section, "environments/production.yaml")
    assert (info.value.key_path, info.value.expected) == (key_path, expected)


def test_unquoted_yaml_time_is_explained() -> None:
    section = yaml.safe_load("windows: [{days: [tue], start: 20:00, end: 22:00}]")
    with pytest.raises(ConfigError) as info:
        parse_calendar(section, "env.yaml")
    assert info.value.key_path == "calendar.windows[0].start"
    assert "unquoted 20:00 is read by YAML as a number" in info.value.expected


def test_end_may_be_midnight_and_absent_section_is_not_configured() -> None:
    cal = parse_calendar({"freeze": [{"days": ["fri"], "start": "18:00", "end": "24:00"}]}, "env.yaml")
    assert in_freeze(cal, utc("2026-11-27T22:59:59"))  # Friday 23:59:59 CET
    assert not in_freeze(cal, utc("2026-11-27T23:00:00"))  # Saturday 00:00 CET
    with pytest.raises(NotConfigured):
        parse_calendar(None, "env.yaml")


def test_parse_instant() -> None:
    assert parse_instant("2026-11-24T20:30:00+01:00", "--wg-now") == utc("2026-11-24T19:30:00")
    assert parse_instant("2026-11-24T19:30:00Z", "--wg-now") == utc("2026-11-24T19:30:00")
    with pytest.raises(ConfigError) as info:
        parse_instant("2026-11-24T19:30:00", "--wg-now")
    assert str(info.value).startswith("--wg-now: a time with an offset or Z")


def test_naive_now_is_refused(cal: Calendar) -> None:
    with pytest.raises(ValueError):
        in_window(cal, datetime(2026, 11, 24, 19, 30))
