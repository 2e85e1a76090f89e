"""PF-3 and RV-3 judged: down migrations and backup plan; the applied set against N-1.

``check_*``/``applied_match`` return a `MigrationResult`; a failed requirement is
``ok=False``; ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_wimmelgate.domain.migrations.scanner import DEFAULT_GLOB, scan_folder
from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category


@dataclass(frozen=True)
class MigrationResult(CheckResult):
    """Outcome of PF-3 or RV-3."""


def check_down_migrations(
    folder: str | Path, glob: str = DEFAULT_GLOB, backup_plan: str | None = None
) -> MigrationResult:
    """PF-3: every migration has ``up`` and a usable ``down``; a backup plan is referenced."""
    path = Path(folder)
    plan_problem = backup_plan_problem(backup_plan)
    if not path.is_dir():
        return MigrationResult(
            "PF-3",
            False,
            f"migrations folder {folder} does not exist",
            Category.CONFIG,
            {"folder": str(folder)},
        )
    scanned = scan_folder(path, glob)
    no_down = [m for m in scanned if not m.has_down]
    no_up = [m.name for m in scanned if not m.has_up]
    details: dict[str, Any] = {
        "folder": str(folder),
        "glob": glob,
        "migrations": [m.name for m in scanned],
        "missing_down": [m.name + (f" ({m.down_note})" if m.down_note else "") for m in no_down],
        "missing_up": no_up,
        "backup_plan": backup_plan or None,
    }
    problems = []
    if no_down:
        problems.append("no down migration in " + ", ".join(details["missing_down"]))
    if no_up:
        problems.append("no up export in " + ", ".join(no_up))
    if plan_problem:
        problems.append(plan_problem)
    if problems:
        category = Category.CONFIG if plan_problem and not (no_down or no_up) else Category.PRODUCT
        return MigrationResult("PF-3", False, "; ".join(problems), category, details)
    count = (
        f"{len(scanned)} migrations in {folder} have up and down"
        if scanned
        else (f"no migration files match {glob} in {folder}")
    )
    return MigrationResult("PF-3", True, f"{count}; backup plan {backup_plan}", None, details)


def backup_plan_problem(value: str | None) -> str | None:
    """What is wrong with the backup plan reference, or None: a non-empty text; a value
    that looks like a URL must be an http(s) URL with a host."""
    text = (value or "").strip()
    if not text:
        return "no backup plan referenced (migrations.backup_plan)"
    if "://" in text and " " not in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "backup plan reference is not an http(s) URL with a host"
    return None


# ----------------------------------------------------------------------------- RV-3


def applied_match(applied_names: Iterable[str], expected_files: Iterable[str], release: str = "N-1") -> MigrationResult:
    """RV-3: the applied set equals the migration files of release ``release``.

    Applied but not expected: the down migration did not run. Expected but not applied:
    the database is behind release N-1 (or a down ran once too often).
    """
    have = set(applied_names)
    want = set(expected_files)
    not_rolled_back = sorted(have - want)
    missing = sorted(want - have)
    details = {
        "release": release,
        "applied": sorted(have),
        "expected": sorted(want),
        "not_rolled_back": not_rolled_back,
        "missing": missing,
    }
    problems = []
    if not_rolled_back:
        problems.append("still applied (down migration did not run): " + ", ".join(not_rolled_back))
    if missing:
        problems.append(f"{release} migrations not applied: " + ", ".join(missing))
    if problems:
        return MigrationResult(
            "RV-3",
            False,
            f"applied migrations differ from {release}: " + "; ".join(problems),
            Category.PRODUCT,
            details,
        )
    return MigrationResult("RV-3", True, f"applied migrations match {release} ({len(want)} migrations)", None, details)
