"""PF-1 (runbook 2.1): the artifact under test is known, version and commit, and recorded.

Both are shown as the check's parameters with where they came from (``--wg-version``, a
CI variable, the backend's report, git); a value that only fell back to a placeholder
(``unversioned``, ``unknown``) fails the check as ``configuration missing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category

if TYPE_CHECKING:
    from pytest_wimmelgate.core.run import RunContext

FALLBACK = "fallback"


def check_known(run: RunContext) -> CheckResult:
    """PF-1: neither the version nor the commit under test is a fallback."""
    parameters = {
        "version": f"{run.version} ({run.version_source})",
        "commit": f"{run.commit} ({run.commit_source})",
    }
    sources = {"version": run.version_source, "commit": run.commit_source}
    details = {"version": run.version, "commit": run.commit, "sources": sources}
    unknown = [name for name, source in sources.items() if source == FALLBACK]
    if unknown:
        reason = f"artifact {' and '.join(unknown)} unknown: give --wg-version and --wg-commit (or the CI variables)"
        return CheckResult("PF-1", False, reason, Category.CONFIG, details, parameters)
    return CheckResult("PF-1", True, "artifact version and commit known and recorded", None, details, parameters)
