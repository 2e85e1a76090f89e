"""The identity of one gate run: id, version, commit, tester, clock, approvals."""

from __future__ import annotations

import getpass
import os
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_wimmelgate.config import times

#: ``version_source`` of a version the run only read from the backend itself (nothing to compare it with)
REPORTED_BY_BACKEND = "reported by the backend"
CI_TAG_VARIABLES = ("CI_COMMIT_TAG", "GITHUB_REF_NAME_IF_TAG", "RELEASE_VERSION")
CI_COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_SOURCEVERSION")
CI_ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "USER_LOGIN")


@dataclass(frozen=True)
class RunContext:
    """Everything that names a run; computed once on the controller, sent to workers."""

    run_id: str
    version: str
    version_source: str
    commit: str
    commit_source: str
    tester: str
    started_at: str
    now: str
    approvals: tuple[str, ...] = ()
    allow_destructive: bool = False
    run_dir: str = ""
    gates: tuple[str, ...] = field(default_factory=tuple)
    #: ``--wg-watch`` / ``--wg-watch-interval`` as given (checked at start), else None
    watch: str | None = None
    watch_interval: str | None = None
    #: what the user asked pytest to run (``-m``, ``-k``, ``--lf``, ``--deselect``, paths, ``--maxfail``)
    selection: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunContext:
        values = dict(data)
        values["approvals"] = tuple(values.get("approvals", ()))
        values["gates"] = tuple(values.get("gates", ()))
        return cls(**values)

    @property
    def clock(self) -> datetime:
        return parse_instant(self.now, "--wg-now")

    @property
    def version_expected(self) -> bool:
        """Whether the version was given (so SG-1 compares /health against it)."""
        return self.version_source not in (REPORTED_BY_BACKEND, "fallback")

    @property
    def commit_expected(self) -> bool:
        return self.commit_source in ("--wg-commit", "WIMMELGATE_COMMIT", "ini wg_commit", "CI")


def new_run_id() -> str:
    return "wg-" + uuid.uuid4().hex[:12]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str, source: str) -> datetime:
    """An ISO 8601 instant; naive times are rejected (see `pytest_wimmelgate.config.times`)."""
    return times.parse_instant(text, source)


def ci_version(environ: Mapping[str, str]) -> str | None:
    if environ.get("CI_COMMIT_TAG"):
        return environ["CI_COMMIT_TAG"]
    if environ.get("GITHUB_REF_TYPE") == "tag" and environ.get("GITHUB_REF_NAME"):
        return environ["GITHUB_REF_NAME"]
    return None


def ci_commit(environ: Mapping[str, str]) -> str | None:
    return next((environ[v] for v in CI_COMMIT_VARIABLES if environ.get(v)), None)


def git_commit(cwd: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def tester(option: str | None, environ: Mapping[str, str]) -> str:
    if option:
        return option
    actor = next((environ[v] for v in CI_ACTOR_VARIABLES if environ.get(v)), None)
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")
