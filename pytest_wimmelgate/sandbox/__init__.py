"""The reference Wimmelwelt backend ("sandbox") and its launcher.

`Sandbox` starts the backend with real dependencies (SecantusDB over the MongoDB wire
protocol, moto S3, and Prometheus/Alertmanager if asked) as separate processes on
127.0.0.1, all at once, and stops them in well under a second; a gate run starts
monitoring only for the checks that read it (`launcher.gate_run`). `SandboxInfo`
describes a running one; the ``pause_*``/``resume_*``/``restart_database`` functions
inject faults from any process. Nothing heavy is imported until used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.launcher.foreground import run_foreground
    from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
    from pytest_wimmelgate.sandbox.launcher.stack import (
        BackendProcess,
        Sandbox,
        SandboxError,
        database_pid,
        pause_database,
        pause_s3,
        restart_database,
        resume_database,
        resume_s3,
        start_backend,
    )

__all__ = [
    "BackendProcess",
    "Sandbox",
    "SandboxError",
    "SandboxInfo",
    "database_pid",
    "pause_database",
    "pause_s3",
    "restart_database",
    "resume_database",
    "resume_s3",
    "run_foreground",
    "start_backend",
]


def __getattr__(name: str) -> Any:
    if name == "run_foreground":
        from pytest_wimmelgate.sandbox.launcher import foreground

        return foreground.run_foreground
    if name == "SandboxInfo":
        from pytest_wimmelgate.sandbox.launcher import info

        return info.SandboxInfo
    if name in __all__:
        from pytest_wimmelgate.sandbox.launcher import stack as launcher

        return getattr(launcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
