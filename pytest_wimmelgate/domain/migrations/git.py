"""The migration files of an earlier release, read from a git ref (RV-3's N-1 set)."""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path

from pytest_wimmelgate.domain.migrations.scanner import DEFAULT_GLOB
from pytest_wimmelgate.errors import Category, ProbeError

GIT_TIMEOUT_S = 15


def files_at_ref(repo: str | Path, ref: str, folder: str, glob: str = DEFAULT_GLOB) -> list[str]:
    """The migration file names in ``folder`` at git ``ref`` (e.g. the N-1 tag).

    Raises :class:`ProbeError` (category configuration) when git cannot list them.
    """
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "ls-tree", "--name-only", f"{ref}:{folder.strip('/')}"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(Category.CONFIG, f"git ls-tree {ref}:{folder}: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        raise ProbeError(Category.CONFIG, f"git ls-tree {ref}:{folder}: ref or folder not found")
    return sorted(n for n in proc.stdout.splitlines() if fnmatch.fnmatch(n, glob))
