"""The result every domain check returns: ok or not, a one-line reason, evidence.

A failed requirement is a result with ``ok=False``, never an exception; the suite calls
`CheckResult.raise_for_failure` last, which raises `CheckFailed` with the category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_wimmelgate.errors import Category, CheckFailed


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one catalogue check."""

    check_id: str
    ok: bool
    reason: str
    category: Category | None = None
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    #: the category of a failure that names none
    default_category: ClassVar[Category] = Category.PRODUCT

    def extra_evidence(self) -> dict[str, Any]:
        """Fields a subclass adds to the evidence."""
        return {}

    def evidence(self) -> dict[str, Any]:
        return {
            "check": self.check_id,
            "ok": self.ok,
            "category": str(self.category) if self.category else None,
            "reason": self.reason,
            **self.extra_evidence(),
            **dict(self.details),
        }

    def raise_for_failure(self) -> None:
        """Raise `CheckFailed` when the check failed; a test calls this last."""
        __tracebackhide__ = True
        if not self.ok:
            raise CheckFailed(self.category or self.default_category, self.reason, self.evidence())
