"""A cross-process lock: ordinary checks hold it shared, destructive ones exclusively.

While a destructive check blocks a dependency, no other check of the run (also on
another xdist worker) touches the same target. A waiting destructive check goes first:
it takes a turnstile that new shared holders must pass, so it does not wait behind a
stream of ordinary checks, and the ordinary checks then run in parallel again.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class TargetLock:
    """One lock file and one turnstile per run, opened once per process."""

    def __init__(self, path: Path) -> None:
        self._paths = (path, path.with_name(path.name.removesuffix(".lock") + ".turnstile.lock"))
        self._handles: tuple[IO[bytes], IO[bytes]] | None = None

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        lock, turnstile = self._open()
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._handles is not None:
            for handle in self._handles:
                handle.close()
            self._handles = None

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._handles is None:
            self._paths[0].parent.mkdir(parents=True, exist_ok=True)
            lock, turnstile = (open(p, "a+b") for p in self._paths)  # noqa: SIM115 - kept open for the run
            self._handles = (lock, turnstile)
        return self._handles
