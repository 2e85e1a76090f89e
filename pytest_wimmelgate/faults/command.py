"""Faults through shell commands from the environment file (kubectl, a proxy, iptables)."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError


class CommandFaults:
    name = "command"

    def __init__(self, settings: Mapping[str, Any], *, source: str) -> None:
        for key in ("block", "unblock"):
            if not settings.get(key):
                raise ConfigError(source, f"faults.command.{key}", "a shell command")
        self._settings = settings
        self._timeout = float(settings.get("timeout_s", 60))

    def guard_spec(self) -> dict[str, Any]:
        return {"provider": "command", "command": dict(self._settings)}

    def block(self, target: str) -> None:
        self._run("block", target)

    def unblock(self, target: str) -> None:
        self._run("unblock", target)

    def failover(self, target: str) -> None:
        if not self._settings.get("failover"):
            raise CheckFailed(Category.CONFIG, "faults.command.failover is not configured")
        self._run("failover", target)

    def _run(self, action: str, target: str) -> None:
        command = str(self._settings[action]).replace("{target}", shlex.quote(target))
        try:
            done = subprocess.run(
                command, shell=True, capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(
                Category.INFRASTRUCTURE, f"fault command '{action}' did not finish within {self._timeout:g} s"
            ) from None
        if done.returncode != 0:
            raise CheckFailed(
                Category.INFRASTRUCTURE,
                f"fault command '{action}' exited {done.returncode}",
                {"stderr": done.stderr[-2000:], "stdout": done.stdout[-2000:]},
            )
