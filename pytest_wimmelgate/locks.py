"""A cross-process lock: ordinary checks hold it shared, destructive ones exclusively.

While a destructive check blocks a dependency, no other check of the run (also on
another xdist worker) touches the same target.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class TargetLock:
    """One lock file per run, opened once per process; `hold` takes it per check."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[bytes] | None = None

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        if self._handle is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self._path, "a+b")  # noqa: SIM115 - kept open for the run
        fcntl.flock(self._handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._handle, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
