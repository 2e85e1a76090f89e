"""The target lock: ordinary checks hold it shared, destructive ones exclusively, across gate runs.

While a destructive check blocks a dependency, no other check touches the same target: not
on another xdist worker of the run, and not in another gate run on this machine. The lock is
keyed by the TARGET, not by the run folder: the backend base URL (normalised) and what the
fault provider acts on (`faults.target_identity`), each a lock file named by the SHA-256 of
the identity, so a lock file holds no value and its name tells nothing about the target.

The lock directory is ``<tempfile.gettempdir()>/wimmelgate-locks``: machine-wide, the same
for two runs with different release folders, working directories or environment files
(a run folder or the release dir would give each run its own lock, the flaw this replaces).
It is created world-writable with the sticky bit, like ``/tmp``, so runs by different users
exclude each other too; where that is refused, the user's own ``wimmelgate-locks-<uid>``.

A waiting destructive check goes first: it takes a turnstile that new shared holders must
pass, so it does not wait behind a stream of ordinary checks. Waiting is bounded
(`LockWait`): a check that waited long has it in its evidence; one whose bound passed
fails with ``target busy`` instead of touching a target another run is faulting.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from pytest_wimmelgate.errors import Category, CheckFailed

LOCK_DIR_NAME = "wimmelgate-locks"
NOTEWORTHY_WAIT_S = 0.5
_POLL_FIRST_S, _POLL_MAX_S = 0.005, 0.1


class TargetBusy(CheckFailed):
    """The target stayed locked by other checks (of this or another gate run) beyond the bound."""


@dataclass(frozen=True)
class LockWait:
    """How long a check waited for the target lock; ``busy`` when it gave up."""

    waited_s: float
    exclusive: bool
    bound_s: float
    busy: bool = False

    def evidence(self) -> dict[str, Any]:
        return {
            "waited_s": round(self.waited_s, 3),
            "mode": "exclusive (destructive check)" if self.exclusive else "shared",
            "bound_s": self.bound_s,
            "why": "another check (of this run or another gate run) had the target locked, "
            "e.g. a destructive check with its fault on",
        }

    def settle(self, evidence: Any) -> None:
        """Attach a noteworthy wait to the check's evidence; raise `TargetBusy` when the bound passed."""
        if self.busy:
            raise TargetBusy(
                Category.INFRASTRUCTURE,
                f"target busy: still locked by other checks after {self.waited_s:.1f} s "
                f"(bound {self.bound_s:g} s); a destructive check of another gate run may hold it",
                self.evidence(),
            )
        if self.waited_s >= NOTEWORTHY_WAIT_S:
            evidence.json("target lock wait", self.evidence())


def normalise_url(url: str) -> str:
    """``HTTP://Host:80/api/`` and ``http://host/api`` name the same target."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}{parts.path.rstrip('/')}"


def run_identities(base_url: str | None, fault_identity: str | None) -> list[str]:
    """The identities a gate run locks: its backend and what its fault provider acts on."""
    found = []
    if base_url and "://" in base_url:
        found.append(f"backend:{normalise_url(base_url)}")
    if fault_identity:
        found.append(f"fault:{fault_identity}")
    return found


def lock_dir() -> Path:
    """The machine-wide lock directory (see the module docstring)."""
    shared = Path(tempfile.gettempdir()) / LOCK_DIR_NAME
    try:
        shared.mkdir(exist_ok=True)
        if shared.stat().st_uid == os.getuid():
            shared.chmod(0o1777)
        if os.access(shared, os.W_OK | os.X_OK):
            return shared
    except OSError:
        pass
    private = Path(tempfile.gettempdir()) / f"{LOCK_DIR_NAME}-{os.getuid()}"
    private.mkdir(mode=0o700, exist_ok=True)
    return private


class TargetLock:
    """The lock files of a run's targets, opened once per process; no identities: no locking."""

    def __init__(self, identities: Iterable[str], *, wait_bound_s: float, directory: Path | None = None) -> None:
        digests = sorted({hashlib.sha256(identity.encode("utf-8")).hexdigest() for identity in identities})
        self._digests = digests
        self._directory = directory
        self.wait_bound_s = wait_bound_s
        self._handles: list[tuple[IO[bytes], IO[bytes]]] | None = None

    @classmethod
    def for_run(
        cls, *, base_url: str | None, faults: Mapping[str, Any], sandbox_info: Mapping[str, Any] | None
    ) -> TargetLock:
        """The lock of a gate run against ``base_url`` with the environment's ``faults`` section.

        The wait bound is twice a fault's block+recovery bound: what a destructive check may
        hold the target for, with room for the ordinary checks around it.
        """
        from pytest_wimmelgate.faults import fault_bound_s, target_identity

        identities = run_identities(base_url, target_identity(faults, sandbox_info))
        return cls(identities, wait_bound_s=2 * fault_bound_s(faults))

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[LockWait]:
        """Hold every target lock, shared or exclusive, in a fixed order (no deadlock between runs).

        Yields how long it waited; when the bound passes first it yields a busy `LockWait`
        holding nothing (the caller fails the check with `LockWait.settle`).
        """
        started = time.monotonic()
        deadline = started + self.wait_bound_s
        with ExitStack() as held:
            for lock, turnstile in self._open():
                if not _take(turnstile, fcntl.LOCK_EX, deadline):
                    held.close()
                    yield LockWait(time.monotonic() - started, exclusive, self.wait_bound_s, busy=True)
                    return
                got = _take(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline)
                if exclusive and got:
                    held.callback(fcntl.flock, turnstile, fcntl.LOCK_UN)
                else:
                    fcntl.flock(turnstile, fcntl.LOCK_UN)
                if not got:
                    held.close()
                    yield LockWait(time.monotonic() - started, exclusive, self.wait_bound_s, busy=True)
                    return
                held.callback(fcntl.flock, lock, fcntl.LOCK_UN)
            yield LockWait(time.monotonic() - started, exclusive, self.wait_bound_s)

    def close(self) -> None:
        if self._handles is not None:
            for pair in self._handles:
                for handle in pair:
                    handle.close()
            self._handles = None

    def _open(self) -> list[tuple[IO[bytes], IO[bytes]]]:
        if self._handles is None:
            directory = self._directory or lock_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self._handles = [
                (_open_shared(directory / f"{d}.lock"), _open_shared(directory / f"{d}.turnstile.lock"))
                for d in self._digests
            ]
        return self._handles


def _open_shared(path: Path) -> IO[bytes]:
    """Open (creating) a lock file others may lock too: mode 0666 regardless of the umask."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o666)
    except OSError:
        pass
    return os.fdopen(fd, "r+b")


def _take(handle: IO[bytes], mode: int, deadline: float) -> bool:
    """``flock`` with a deadline: poll a non-blocking attempt with a growing pause."""
    pause = _POLL_FIRST_S
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, _POLL_MAX_S)
