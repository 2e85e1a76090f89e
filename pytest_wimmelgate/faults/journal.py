"""The fault journal: when this run blocked or failed over which target.

`FaultJournal(run_dir)` keeps ``<run_dir>/fault-intervals.jsonl``, one JSON line per fault::

    {"id": "...", "target": "database", "provider": "sandbox", "kind": "block",
     "started_at": 1764356531.2, "ended_at": 1764356534.9, "check": "SG-3", "pid": 4711}

``started_at``/``ended_at`` are epoch seconds; ``ended_at`` is null while the fault is on
(or when the process died before lifting it). A fault's line is appended when it starts and
rewritten in place when it ends, both under an ``flock`` on a sidecar lock file, so xdist
workers of one run can write at the same time. Metric checks read it to leave out the time a
run's own faults were on; the summary lists the intervals.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "fault-intervals.jsonl"


@dataclass(frozen=True)
class FaultInterval:
    """One fault of the run: what, through which provider, from when to when, in which check."""

    id: str
    target: str
    provider: str
    kind: str
    started_at: float
    ended_at: float | None
    check: str | None
    pid: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def overlaps(self, start: float, end: float) -> bool:
        """True when the fault was on at any moment of ``[start, end]`` (an open fault is on until now)."""
        return self.started_at <= end and (self.ended_at if self.ended_at is not None else time.time()) >= start


class FaultJournal:
    """Append-and-rewrite journal of one run folder's faults, safe across processes."""

    def __init__(self, run_dir: Path, *, check: str | None = None) -> None:
        self.path = Path(run_dir) / FILE_NAME
        self._lock_path = Path(run_dir) / f".{FILE_NAME}.lock"
        self.check = check

    def for_check(self, check: str | None) -> FaultJournal:
        """The same journal, recording faults as made by ``check``."""
        return FaultJournal(self.path.parent, check=check)

    def start(self, *, target: str, provider: str, kind: str = "block") -> FaultInterval:
        """Record that a fault begins now; returns the open interval for `end`."""
        entry = FaultInterval(
            id=uuid.uuid4().hex[:12],
            target=target,
            provider=provider,
            kind=kind,
            started_at=time.time(),
            ended_at=None,
            check=self.check,
            pid=os.getpid(),
        )
        with self._locked(exclusive=True), open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry.to_json()) + "\n")
        return entry

    def end(self, entry: FaultInterval) -> FaultInterval:
        """Record that the fault ``entry`` ended now (rewrites its line)."""
        ended = FaultInterval(**{**entry.to_json(), "ended_at": time.time()})
        with self._locked(exclusive=True):
            lines = [ended if line.id == entry.id else line for line in self._read()]
            tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
            tmp.write_text("".join(json.dumps(line.to_json()) + "\n" for line in lines), encoding="utf-8")
            os.replace(tmp, self.path)
        return ended

    @contextmanager
    def recording(self, *, target: str, provider: str, kind: str = "block") -> Iterator[FaultInterval]:
        """Record a fault for the duration of the block; its end is written also on failure."""
        entry = self.start(target=target, provider=provider, kind=kind)
        try:
            yield entry
        finally:
            self.end(entry)

    def intervals(self) -> list[FaultInterval]:
        """Every fault recorded so far, in start order."""
        if not self.path.exists():
            return []
        with self._locked(exclusive=False):
            return sorted(self._read(), key=lambda entry: entry.started_at)

    def first_start(self) -> float | None:
        """When the run's first fault began (epoch seconds), or None when it made none."""
        found = self.intervals()
        return found[0].started_at if found else None

    def _read(self) -> list[FaultInterval]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entries.append(FaultInterval(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line cut short by a killed process
        return entries

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
