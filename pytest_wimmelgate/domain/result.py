"""The result every domain check returns: ok or not, a one-line reason, evidence.

A failed requirement is a result with ``ok=False``, never an exception; the suite hands
it to ``evidence.judge`` last, which attaches its evidence and calls
`CheckResult.raise_for_failure` (`CheckFailed` with the category). A check over a probe
that raises (a vendor API, a contract flow) is turned into a result by `measured`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_wimmelgate.errors import Category, CheckFailed


@dataclass(frozen=True)
class Attachment:
    """Evidence beside the result's JSON: a text (a table), or a PNG image given as bytes."""

    name: str
    body: str | bytes


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one catalogue check."""

    check_id: str
    ok: bool
    reason: str
    category: Category | None = None
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: values shown as the check's parameters in the report (e.g. a recovery time)
    parameters: Mapping[str, Any] = field(default_factory=dict, compare=False)
    attachments: tuple[Attachment, ...] = field(default=(), compare=False)
    #: what a passed check could not verify (the summary and report show it)
    note: str | None = field(default=None, compare=False)

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


@dataclass
class Observed:
    """What a probe saw on its way to a verdict; `measured` turns it into the result."""

    evidence: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    note: str | None = None


def measured(check_id: str, criterion: str, probe: Callable[[Observed], None]) -> CheckResult:
    """The result of a check whose probe raises when ``criterion`` does not hold.

    ``probe`` records what it sees in the `Observed` it is given and raises `CheckFailed`
    (a `ProbeError` too) on the first problem: the result is failed with that reason,
    category and evidence, keeping what was recorded before. Otherwise it passed, with
    ``criterion`` as its reason. The evidence names the criterion either way.
    """
    seen = Observed(evidence={"criterion": criterion})
    try:
        probe(seen)
    except CheckFailed as error:
        return CheckResult(
            check_id,
            False,
            error.reason,
            error.category,
            {**seen.evidence, **error.evidence},
            dict(seen.parameters),
            tuple(seen.attachments),
        )
    return CheckResult(
        check_id, True, criterion, None, seen.evidence, dict(seen.parameters), tuple(seen.attachments), seen.note
    )
