"""Faults on the reference backend's real processes: pause the database or S3, restart it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.errors import Category, CheckFailed


class SandboxFaults:
    name = "sandbox"

    def __init__(self, info: Mapping[str, Any]) -> None:
        from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo

        self._raw = dict(info)
        self._info = SandboxInfo.from_dict(self._raw)

    def guard_spec(self) -> dict[str, Any]:
        return {"provider": "sandbox", "sandbox_info": self._raw}

    def block(self, target: str) -> None:
        from pytest_wimmelgate.sandbox.launcher import control as launcher

        {"database": launcher.pause_database, "storage": launcher.pause_s3}[self._target(target)](self._info)

    def unblock(self, target: str) -> None:
        from pytest_wimmelgate.sandbox.launcher import control as launcher

        {"database": launcher.resume_database, "storage": launcher.resume_s3}[self._target(target)](self._info)

    def failover(self, target: str) -> None:
        from pytest_wimmelgate.sandbox.launcher import control as launcher

        if self._target(target) != "database":
            raise CheckFailed(Category.CONFIG, f"the sandbox cannot fail over {target!r}")
        launcher.restart_database(self._info)

    @staticmethod
    def _target(target: str) -> str:
        if target not in ("database", "storage"):
            raise CheckFailed(Category.CONFIG, f"unknown fault target {target!r} (database, storage)")
        return target
