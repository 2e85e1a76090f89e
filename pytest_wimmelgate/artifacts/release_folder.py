"""The run folder ``<release-dir>/<version>/<env>/<gates>-<UTC stamp>/``, never reused, never collected."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

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
