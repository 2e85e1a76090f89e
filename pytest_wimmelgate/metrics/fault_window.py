"""A run's own faults never count against it: the time metric checks may observe.

The faults this run injected (SG-3's database block, DR-3's failover, DR-4's storage block)
are in its fault journal (`pytest_wimmelgate.faults.journal`). A Prometheus window that
holds one of them, or the ``SETTLE_S`` after it ends (readiness recovers, counters are
scraped), is moved back: it ends at the start of the earliest fault it would hold, the
latest instant whose whole window is clean. The reason says so. Active sampling pauses
while a fault is on and leaves out requests that overlapped one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_wimmelgate.faults.journal import FaultInterval, FaultJournal

#: after a fault ends, how long its effects may still show (recovery, the next scrapes)
SETTLE_S = 30.0
CACHE_S = 0.1


@dataclass(frozen=True)
class CleanWindow:
    """Where an objective's window should end, and why when that is not now."""

    end: float
    moved: bool
    note: str = ""


class RunFaults:
    """This run's own faults, read from its journal (cached for ``CACHE_S``)."""

    def __init__(
        self,
        read: Callable[[], Sequence[FaultInterval]],
        *,
        clock: Callable[[], float] = time.time,
        settle_s: float = SETTLE_S,
    ) -> None:
        self._read = read
        self._clock = clock
        self._settle_s = settle_s
        self._cached: tuple[float, tuple[FaultInterval, ...]] | None = None

    @classmethod
    def of_run(cls, run_dir: Path) -> RunFaults:
        return cls(FaultJournal(run_dir).intervals)

    def intervals(self) -> tuple[FaultInterval, ...]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > CACHE_S:
            self._cached = (now, tuple(sorted(self._read(), key=lambda i: i.started_at)))
        return self._cached[1]

    def active(self) -> str | None:
        """A fault of this run that is on now (or still settling), described; else None."""
        now = self._clock()
        for interval in self.intervals():
            if interval.started_at <= now <= self._until(interval, now):
                return describe(interval)
        return None

    def overlaps(self, start: float, end: float) -> bool:
        """Whether ``[start, end]`` touches a fault of this run or its settling time."""
        now = self._clock()
        return any(i.started_at <= end and self._until(i, now) >= start for i in self.intervals())

    def clean_window(self, window_s: float, now: float | None = None) -> CleanWindow:
        """The latest end ``t <= now`` of a ``window_s`` window that holds none of this run's faults."""
        now = self._clock() if now is None else now
        found = [i for i in self.intervals() if i.started_at <= now]
        if not any(self._until(i, now) >= now - window_s for i in found):
            return CleanWindow(now, moved=False)
        for candidate in sorted(found, key=lambda i: i.started_at, reverse=True):
            end = candidate.started_at
            if not any(i.started_at < end and self._until(i, now) >= end - window_s for i in found):
                excluded = [i for i in found if i.started_at >= end]
                return CleanWindow(end, moved=True, note=_note(candidate, excluded))
        first = found[0]
        return CleanWindow(first.started_at, moved=True, note=_note(first, found))

    def _until(self, interval: FaultInterval, now: float) -> float:
        end = interval.ended_at if interval.ended_at is not None else now
        return end + self._settle_s


def describe(interval: FaultInterval) -> str:
    """``SG-3's database block (sandbox) from 17:30:41Z``."""
    from pytest_wimmelgate.metrics.watch import iso_time

    owner = f"{interval.check}'s " if interval.check else ""
    until = f" to {iso_time(interval.ended_at)[11:]}" if interval.ended_at is not None else ", still on"
    since = iso_time(interval.started_at)[11:]
    return f"{owner}{interval.target} {interval.kind} ({interval.provider}) from {since}{until}"


def _note(first: FaultInterval, excluded: Sequence[FaultInterval]) -> str:
    others = len(excluded) - 1
    more = f" and {others} later fault(s)" if others > 0 else ""
    return (
        f"the window ends where this run's own fault began ({describe(first)}{more}): later time is not observed,"
        " a run's own faults never count against it"
    )
