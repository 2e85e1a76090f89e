"""The run folder ``<release-dir>/<version>/<env>/<gates>-<UTC stamp>/``, never reused, never collected."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pytest_wimmelgate.config.secrets import SecretSet

UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def component(text: str) -> str:
    """A safe single path component (no slashes, no leading dots)."""
    cleaned = UNSAFE.sub("_", text).strip("._") or "_"
    return cleaned[:80]


def create_run_dir(root: Path, version: str, environment: str, gates: Sequence[str], started: datetime) -> Path:
    """Create a fresh run folder; a clash with an earlier run gets a ``-2``, ``-3`` suffix."""
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    label = "+".join(component(g) for g in gates) or "gates"
    parent = root / component(version) / component(environment)
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else f"-{attempt}"
        candidate = parent / f"{label}-{stamp}{suffix}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        (candidate / "allure-results").mkdir()
        return candidate
    raise RuntimeError(f"could not create a new run folder under {parent}")


def pruned(path: Path, run_dir: Path, rootdir: Path, args: Sequence[str]) -> bool:
    """Whether pytest's collection may skip ``path``: it is the release folder of ``run_dir`` (earlier runs, no
    tests), other than the rootdir, and no argument of the run points into it."""
    root = run_dir.parents[2]
    if path != root or root == rootdir:
        return False
    return not any(Path(arg.split("::", 1)[0]).resolve().is_relative_to(root) for arg in args)


def discard(run_dir: Path, created: Sequence[Path], scratch_junit: Path) -> None:
    """A run that ends with exit 4 leaves no run folder, nor the empty folders above it it created."""
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in created:  # deepest first
        with contextlib.suppress(OSError):
            parent.rmdir()  # only when empty
    scratch_junit.unlink(missing_ok=True)


def take_junit(scratch: Path, run_dir: Path, secrets: SecretSet) -> None:
    """Move junitxml's scratch file (outside the run folder while it is written) in, redacted."""
    target = run_dir / "junit.xml"
    if scratch.is_file() and scratch != target:
        target.write_bytes(secrets.redact_bytes(scratch.read_bytes()))
        scratch.unlink()
        with contextlib.suppress(OSError):
            scratch.parent.rmdir()
