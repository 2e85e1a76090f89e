"""CW-1, CW-2: release windows and change freeze (runbook section 5).

Style: :func:`check_window` and :func:`check_freeze` return a :class:`CalendarResult`; a
failed requirement is ``ok=False`` (category ``configuration missing``: an approval the
release team must give is absent); ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`. A malformed ``calendar`` section raises
:class:`~pytest_wimmelgate.errors.ConfigError` naming the key path, e.g.
``calendar.windows[0].end``.

Section ``calendar`` of an environment file::

    calendar:
      timezone: Europe/Berlin          # IANA zone; default Europe/Berlin
      windows:                         # CW-1; absent or [] = no window restriction
        - {days: [tue, thu], start: "20:00", end: "22:00"}
      freeze:                          # CW-2; absent or [] = no freeze (staging)
        - {days: [mon, tue, wed, thu, fri, sat, sun], start: "08:00", end: "18:00"}

Times are local wall-clock times in ``timezone`` (``"HH:MM"`` or ``"HH:MM:SS"``, quoted:
YAML reads an unquoted ``20:00`` as the number 1200); the runbook's "CET" means Berlin
local time, CET in winter and CEST in summer, so a 20:00 window is 19:00 UTC in winter and
18:00 UTC in summer. ``start`` is inside, ``end`` is outside (20:00:00 in, 22:00:00 out);
``end`` may be ``"24:00"``; a span over midnight is written as two spans. Days are
``mon`` .. ``sun`` (full English names are accepted too) of the local date.

CW-1 passes inside a window, or outside with approvals ``product-owner:NAME`` and
``on-call:NAME`` from two different people (runbook: "nur mit Product Owner + On-Call
Zustimmung").

CW-2 passes outside the freeze, or inside with an incident release: ``incident:REF``
where REF identifies the incident (ticket id or URL; it is recorded in the result) *and*
``on-call:NAME``, the person who runs incident response and takes the decision (runbook
section 1: On-Call is responsible for incidents). An incident reference alone names no
person accountable for deploying during peak traffic, so it is not enough.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pytest_wimmelgate.config.fields import check_keys
from pytest_wimmelgate.domain.approvals import (
    INCIDENT,
    ON_CALL,
    PRODUCT_OWNER,
    Approval,
    ApprovalResult,
    by_role,
    pair,
)
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured

SECTION = "calendar"
DEFAULT_TIMEZONE = "Europe/Berlin"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DAY_S = 24 * 3600


@dataclass(frozen=True)
class Span:
    """Local days and a ``[start, end)`` time of day, in seconds after local midnight."""

    days: tuple[int, ...]
    start_s: int
    end_s: int

    def contains(self, local: datetime) -> bool:
        """Whether the local date-time ``local`` falls inside (start in, end out)."""
        if local.weekday() not in self.days:
            return False
        of_day = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return self.start_s <= of_day < self.end_s

    def describe(self) -> str:
        """E.g. ``tue/thu 20:00-22:00``; every day is ``mon-sun``."""
        days = "mon-sun" if len(self.days) == 7 else "/".join(WEEKDAYS[d] for d in self.days)
        return f"{days} {_clock(self.start_s)}-{_clock(self.end_s)}"

    def starts_on(self, day: date, tz: ZoneInfo) -> datetime:
        """The UTC instant this span starts on the local date ``day``."""
        local = datetime.combine(day, time()) + timedelta(seconds=self.start_s)
        return local.replace(tzinfo=tz).astimezone(UTC)

    def ends_on(self, day: date, tz: ZoneInfo) -> datetime:
        """The UTC instant this span ends on the local date ``day``."""
        local = datetime.combine(day, time()) + timedelta(seconds=self.end_s)
        return local.replace(tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Calendar:
    """The parsed ``calendar`` section."""

    timezone: str = DEFAULT_TIMEZONE
    windows: tuple[Span, ...] = ()
    freeze: tuple[Span, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, now_utc: datetime) -> datetime:
        """``now_utc`` as local time; a naive datetime is refused (ambiguous)."""
        if now_utc.tzinfo is None or now_utc.utcoffset() is None:
            raise ValueError("now_utc must be timezone-aware")
        return now_utc.astimezone(self.tz)


@dataclass(frozen=True)
class CalendarResult(ApprovalResult):
    """Outcome of CW-1 or CW-2, with the approvals used for an override."""


# ----------------------------------------------------------------------------- parsing


def parse_calendar(section: Mapping[str, Any] | None, source: str, key: str = SECTION) -> Calendar:
    """Validate the ``calendar`` section of the environment file at ``source``.

    An absent section raises :class:`NotConfigured`; a bad one :class:`ConfigError`.
    """
    if section is None:
        raise NotConfigured(key)
    if not isinstance(section, Mapping):
        raise ConfigError(source, key, "a mapping with timezone, windows, freeze")
    check_keys(section, ("timezone", "windows", "freeze"), source, key)
    tz_name = section.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ConfigError(source, f"{key}.timezone", "an IANA time zone such as Europe/Berlin")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(source, f"{key}.timezone", "an IANA time zone such as Europe/Berlin (unknown zone)") from None
    return Calendar(
        timezone=tz_name,
        windows=_spans(section.get("windows", []), source, f"{key}.windows"),
        freeze=_spans(section.get("freeze", []), source, f"{key}.freeze"),
    )


def _spans(value: Any, source: str, path: str) -> tuple[Span, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(source, path, "a list of {days, start, end}")
    return tuple(_span(item, source, f"{path}[{i}]") for i, item in enumerate(value))


def _span(item: Any, source: str, path: str) -> Span:
    if not isinstance(item, Mapping):
        raise ConfigError(source, path, "a mapping {days: [...], start: HH:MM, end: HH:MM}")
    check_keys(item, ("days", "start", "end"), source, path)
    days_value = item.get("days")
    if not isinstance(days_value, list) or not days_value:
        raise ConfigError(source, f"{path}.days", "a non-empty list of: " + ", ".join(WEEKDAYS))
    days = []
    for i, day in enumerate(days_value):
        text = day.strip().lower() if isinstance(day, str) else ""
        if text in WEEKDAYS:
            days.append(WEEKDAYS.index(text))
        elif text in _FULL_DAYS:
            days.append(_FULL_DAYS.index(text))
        else:
            raise ConfigError(source, f"{path}.days[{i}]", "one of: " + ", ".join(WEEKDAYS))
    start = _clock_value(item.get("start"), source, f"{path}.start", allow_24=False)
    end = _clock_value(item.get("end"), source, f"{path}.end", allow_24=True)
    if end <= start:
        raise ConfigError(
            source,
            f"{path}.end",
            f"a time after start {_clock(start)} (write a span over midnight as two spans)",
        )
    return Span(tuple(sorted(set(days))), start, end)


def _clock_value(value: Any, source: str, path: str, *, allow_24: bool) -> int:
    expected = 'a quoted time "HH:MM" or "HH:MM:SS"'
    if isinstance(value, int) and not isinstance(value, bool):
        raise ConfigError(source, path, f"{expected} (unquoted 20:00 is read by YAML as a number)")
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ConfigError(source, path, expected)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    seconds = hour * 3600 + minute * 60 + second
    if allow_24 and seconds == _DAY_S:
        return seconds
    if hour > 23 or minute > 59 or second > 59:
        raise ConfigError(source, path, f"{expected} from 00:00 to {'24:00' if allow_24 else '23:59:59'}")
    return seconds


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _stamp(local: datetime) -> str:
    return local.strftime("%a %Y-%m-%d %H:%M:%S %Z")


# ----------------------------------------------------------------------------- queries


def in_window(cal: Calendar, now_utc: datetime) -> Span | None:
    """The release window ``now_utc`` falls in (evaluated in local time), or None."""
    local = cal.local(now_utc)
    return next((span for span in cal.windows if span.contains(local)), None)


def in_freeze(cal: Calendar, now_utc: datetime) -> Span | None:
    """The freeze span ``now_utc`` falls in (evaluated in local time), or None."""
    local = cal.local(now_utc)
    return next((span for span in cal.freeze if span.contains(local)), None)


def next_window_start(cal: Calendar, now_utc: datetime) -> datetime | None:
    """The UTC start of the next release window after ``now_utc`` (within 8 days)."""
    tz = cal.tz
    today = cal.local(now_utc).date()
    starts = [
        span.starts_on(today + timedelta(days=offset), tz)
        for offset in range(9)
        for span in cal.windows
        if (today + timedelta(days=offset)).weekday() in span.days
    ]
    later = [s for s in starts if s > now_utc]
    return min(later) if later else None


def _fmt_utc(cal: Calendar, instant: datetime) -> str:
    return _stamp(instant.astimezone(cal.tz))


def check_window(cal: Calendar, now_utc: datetime, approvals: Sequence[Approval]) -> CalendarResult:
    """CW-1: inside a release window, or outside with product-owner and on-call approval."""
    local = cal.local(now_utc)
    details: dict[str, Any] = {
        "now_utc": now_utc.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "now_local": _stamp(local),
        "timezone": cal.timezone,
        "windows": [s.describe() for s in cal.windows],
    }
    if not cal.windows:
        return CalendarResult(
            "CW-1",
            True,
            "no release windows configured for this environment: any time allowed",
            details=details,
        )
    span = in_window(cal, now_utc)
    if span is not None:
        details["window"] = span.describe()
        return CalendarResult(
            "CW-1",
            True,
            f"inside release window {span.describe()} {cal.timezone} (now {_stamp(local)})",
            details=details,
        )
    windows = ", ".join(s.describe() for s in cal.windows)
    found, missing = pair(approvals, PRODUCT_OWNER, ON_CALL)
    if found is not None:
        return CalendarResult(
            "CW-1",
            True,
            f"outside release windows {windows} {cal.timezone} (now {_stamp(local)}); "
            f"override approved by {found[0]} and {found[1]}",
            used=found,
            details=details,
        )
    upcoming = next_window_start(cal, now_utc)
    nxt = f"; next window {_fmt_utc(cal, upcoming)}" if upcoming else ""
    if upcoming:
        details["next_window_utc"] = upcoming.isoformat().replace("+00:00", "Z")
    return CalendarResult(
        "CW-1",
        False,
        f"outside release windows {windows} {cal.timezone} (now {_stamp(local)}{nxt}); "
        f"override needs product-owner and on-call approval: {missing}",
        Category.CONFIG,
        details=details,
    )


def check_freeze(cal: Calendar, now_utc: datetime, approvals: Sequence[Approval]) -> CalendarResult:
    """CW-2: outside the change freeze, or inside with ``incident:REF`` + ``on-call:NAME``."""
    local = cal.local(now_utc)
    details: dict[str, Any] = {
        "now_utc": now_utc.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "now_local": _stamp(local),
        "timezone": cal.timezone,
        "freeze": [s.describe() for s in cal.freeze],
    }
    if not cal.freeze:
        return CalendarResult("CW-2", True, "no change freeze configured for this environment", details=details)
    span = in_freeze(cal, now_utc)
    if span is None:
        spans = ", ".join(s.describe() for s in cal.freeze)
        return CalendarResult(
            "CW-2",
            True,
            f"outside change freeze {spans} {cal.timezone} (now {_stamp(local)})",
            details=details,
        )
    details["freeze_span"] = span.describe()
    until = _stamp(span.ends_on(local.date(), cal.tz).astimezone(cal.tz))
    incidents, on_call = by_role(approvals, INCIDENT), by_role(approvals, ON_CALL)
    if incidents and on_call:
        details["incident"] = incidents[0].name
        return CalendarResult(
            "CW-2",
            True,
            f"inside change freeze {span.describe()} {cal.timezone} (now {_stamp(local)}); "
            f"incident release {incidents[0].name} approved by {on_call[0]}",
            used=(incidents[0], on_call[0]),
            details=details,
        )
    missing = [
        f"{role}:{what}"
        for role, what, found in ((INCIDENT, "REF", incidents), (ON_CALL, "NAME", on_call))
        if not found
    ]
    return CalendarResult(
        "CW-2",
        False,
        f"inside change freeze {span.describe()} {cal.timezone} (now {_stamp(local)}, until {until}); "
        f"an incident release needs approvals incident:REF and on-call:NAME, missing {' and '.join(missing)}",
        Category.CONFIG,
        details=details,
    )
