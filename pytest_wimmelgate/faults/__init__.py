"""Blocking a dependency on purpose (SG-3, DR-3, DR-4), one provider per module.

A provider blocks and unblocks a named target (``database``, ``storage``) and can
fail the database over. `make_provider` wraps it in `RecordedFaults`, which writes every
fault to the run's `FaultJournal` and arms a guard process that lifts a block when the
gate process dies or the block outlives its bound (`faults.guard`). `blocked` guarantees
the unblock, also when the check fails or the run is interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.faults.journal import FaultInterval, FaultJournal

DEFAULT_BLOCK_BOUND_S = 10.0
DEFAULT_RECOVERY_BOUND_S = 30.0


class FaultProvider(Protocol):
    name: str

    def block(self, target: str) -> None: ...

    def unblock(self, target: str) -> None: ...

    def failover(self, target: str) -> None: ...


class GuardedProvider(FaultProvider, Protocol):
    """A provider whose unblock a guard process can repeat: it describes itself as JSON."""

    def guard_spec(self) -> dict[str, Any]: ...


@contextmanager
def blocked(provider: FaultProvider, target: str) -> Iterator[None]:
    """Block ``target`` for the duration of the block; always unblock afterwards.

    With `RecordedFaults` the unblock also happens when an interruption (a signal) lands
    between the block taking effect and the block statement's body starting.
    """
    if not isinstance(provider, RecordedFaults):
        provider.block(target)
        try:
            yield
        finally:
            provider.unblock(target)
        return
    try:
        provider.block(target)
        yield
    finally:
        provider.unblock_if_blocked(target)


class RecordedFaults:
    """A provider whose faults are journaled and guarded; what the suites receive."""

    def __init__(self, inner: GuardedProvider, *, journal: FaultJournal | None, bound_s: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.journal = journal
        self.bound_s = bound_s
        self._open: dict[str, tuple[FaultInterval | None, Any]] = {}

    def block(self, target: str) -> None:
        """Journal, arm the guard, then block; a block that failed leaves nothing to lift."""
        from pytest_wimmelgate.faults.guard import arm

        entry = self.journal.start(target=target, provider=self.name) if self.journal else None
        try:
            guard = arm(self.inner.guard_spec(), target, bound_s=self.bound_s)
        except BaseException:
            self._end(entry)
            raise
        self._open[target] = (entry, guard)  # before the block: an interruption during it still unblocks
        try:
            self.inner.block(target)
        except Exception:
            self._open.pop(target, None)
            guard.disarm()
            self._end(entry)
            raise

    def unblock(self, target: str) -> None:
        entry, guard = self._open.get(target, (None, None))
        try:
            self.inner.unblock(target)
        except BaseException:
            if guard is not None:
                guard.lift_now()  # the guard repeats the unblock outside this process
            raise
        else:
            if guard is not None:
                guard.disarm()
        finally:
            self._open.pop(target, None)
            self._end(entry)

    def unblock_if_blocked(self, target: str) -> None:
        """`unblock` when `block` took (or may have taken) effect; nothing after a failed block."""
        if target in self._open:
            self.unblock(target)

    def failover(self, target: str) -> None:
        if self.journal is None:
            self.inner.failover(target)
            return
        with self.journal.recording(target=target, provider=self.name, kind="failover"):
            self.inner.failover(target)

    def _end(self, entry: FaultInterval | None) -> None:
        if self.journal is not None and entry is not None:
            self.journal.end(entry)


def fault_bound_s(settings: Mapping[str, Any]) -> float:
    """How long a fault may last before the guard lifts it: the block plus the recovery bound."""
    return float(settings.get("block_bound_s", DEFAULT_BLOCK_BOUND_S)) + float(
        settings.get("recovery_bound_s", DEFAULT_RECOVERY_BOUND_S)
    )


def make_provider(
    settings: Mapping[str, Any],
    *,
    source: str,
    sandbox_info: Mapping[str, Any] | None,
    journal: FaultJournal | None = None,
) -> RecordedFaults:
    """The provider named by the environment's ``faults.provider``, journaled and guarded."""
    return RecordedFaults(
        bare_provider(settings, source=source, sandbox_info=sandbox_info),
        journal=journal,
        bound_s=fault_bound_s(settings),
    )


def bare_provider(
    settings: Mapping[str, Any], *, source: str, sandbox_info: Mapping[str, Any] | None
) -> GuardedProvider:
    """The provider itself, without journal and guard (what the guard process runs)."""
    kind = settings.get("provider", "sandbox")
    if kind == "sandbox":
        from pytest_wimmelgate.faults.sandbox import SandboxFaults

        if sandbox_info is None:
            raise ConfigError(
                source, "faults.provider", "'sandbox' needs a sandbox started by this run or SANDBOX_INFO"
            )
        return SandboxFaults(sandbox_info)
    if kind == "command":
        from pytest_wimmelgate.faults.command import CommandFaults

        return CommandFaults(dict(settings.get("command") or {}), source=source)
    if kind == "http":
        from pytest_wimmelgate.faults.http import HttpFaults

        return HttpFaults(dict(settings.get("http") or {}), source=source)
    raise ConfigError(source, "faults.provider", f"one of sandbox, command, http (got {kind!r})")


def target_identity(settings: Mapping[str, Any], sandbox_info: Mapping[str, Any] | None) -> str | None:
    """What a provider's faults act on, for the cross-run target lock (None: no fault target)."""
    kind = settings.get("provider", "sandbox")
    if kind == "sandbox":
        return f"sandbox:{sandbox_info.get('workdir')}" if sandbox_info else None
    if kind == "command":
        command = dict(settings.get("command") or {})
        return f"command:{command.get('block')}" if command.get("block") else None
    if kind == "http":
        url = dict(settings.get("http") or {}).get("url")
        return f"http:{url}" if url else None
    return None
