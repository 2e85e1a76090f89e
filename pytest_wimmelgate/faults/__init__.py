"""Blocking a dependency on purpose (SG-3, DR-3, DR-4), one provider per module.

A provider blocks and unblocks a named target (``database``, ``storage``) and can
fail the database over. `blocked` guarantees the unblock, also when the check fails
or the run is interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from pytest_wimmelgate.errors import ConfigError


class FaultProvider(Protocol):
    name: str

    def block(self, target: str) -> None: ...

    def unblock(self, target: str) -> None: ...

    def failover(self, target: str) -> None: ...


@contextmanager
def blocked(provider: FaultProvider, target: str) -> Iterator[None]:
    """Block ``target`` for the duration of the block; always unblock afterwards."""
    provider.block(target)
    try:
        yield
    finally:
        provider.unblock(target)


def make_provider(settings: Mapping[str, Any], *, source: str, sandbox_info: Mapping[str, Any] | None) -> FaultProvider:
    """The provider named by the environment's ``faults.provider``."""
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
