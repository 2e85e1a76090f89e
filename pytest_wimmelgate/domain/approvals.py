"""Approvals given on the command line (``--wg-approval ROLE:NAME``) and GL-6.

Style: :func:`check_go_no_go` returns an :class:`ApprovalResult`; a missing approval is
``ok=False`` with category ``configuration missing`` (the run lacks an input the release
team must give); ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`. A malformed ``--wg-approval`` raises
:class:`~pytest_wimmelgate.errors.ConfigError` (exit 4) whose key path never quotes the
given text.

Roles (runbook section 1): ``product-owner``, ``release-captain``, ``on-call`` and
``incident``. For the first three NAME is the approving person. For ``incident`` NAME is
the incident reference (ticket id or URL, e.g. ``incident:INC-4711``), without blanks;
see :mod:`pytest_wimmelgate.domain.calendar` for what an incident approval needs besides it.
Role names are case-insensitive; ``_`` may stand for ``-``.

Approvals that must come from two roles (GL-6: product owner and release captain; CW-1:
product owner and on-call) must come from two different people (four-eyes principle);
names are compared case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category, ConfigError

OPTION = "--wg-approval"
PRODUCT_OWNER = "product-owner"
RELEASE_CAPTAIN = "release-captain"
ON_CALL = "on-call"
INCIDENT = "incident"
ROLES = (PRODUCT_OWNER, RELEASE_CAPTAIN, ON_CALL, INCIDENT)


@dataclass(frozen=True)
class Approval:
    """One ``ROLE:NAME`` approval."""

    role: str
    name: str

    def __str__(self) -> str:
        return f"{self.role}:{self.name}"


@dataclass(frozen=True)
class ApprovalResult(CheckResult):
    """Outcome of an approval requirement, with the approvals it used."""

    used: tuple[Approval, ...] = ()
    default_category: ClassVar[Category] = Category.CONFIG

    def extra_evidence(self) -> dict[str, Any]:
        return {"approvals_used": [str(a) for a in self.used]}


def parse_approval(text: str, source: str = OPTION, position: int | None = None) -> Approval:
    """Parse one ``ROLE:NAME``; ``position`` (0-based) goes into the key path if given."""
    where = f"[{position}]" if position is not None else ""
    role_text, sep, name = str(text).partition(":")
    if not sep:
        raise ConfigError(source, where, "ROLE:NAME with ROLE one of: " + ", ".join(ROLES))
    role = role_text.strip().lower().replace("_", "-")
    if role not in ROLES:
        raise ConfigError(source, f"{where}.role".lstrip("."), "one of: " + ", ".join(ROLES))
    name = " ".join(name.split())
    if not name:
        raise ConfigError(source, f"{where}.name".lstrip("."), "ROLE:NAME with a non-empty NAME")
    if role == INCIDENT and " " in name:
        raise ConfigError(source, f"{where}.name".lstrip("."), "incident:REF with an incident id or URL, no blanks")
    return Approval(role, name)


def parse_approvals(texts: Iterable[str], source: str = OPTION) -> tuple[Approval, ...]:
    """Parse every ``--wg-approval`` value; duplicates are kept once, order preserved."""
    parsed = [parse_approval(text, source, i) for i, text in enumerate(texts)]
    return tuple(dict.fromkeys(parsed))


def by_role(approvals: Sequence[Approval], role: str) -> tuple[Approval, ...]:
    """The approvals of ``role``."""
    return tuple(a for a in approvals if a.role == role)


def pair(approvals: Sequence[Approval], first: str, second: str) -> tuple[tuple[Approval, Approval] | None, str]:
    """Find approvals of two roles from two different people.

    Returns ``((a, b), "")`` or ``(None, what is missing)``.
    """
    ones, twos = by_role(approvals, first), by_role(approvals, second)
    missing = [role for role, found in ((first, ones), (second, twos)) if not found]
    if missing:
        return None, "missing approval " + " and ".join(f"{r}:NAME" for r in missing)
    for a in ones:
        for b in twos:
            if a.name.casefold() != b.name.casefold():
                return (a, b), ""
    return None, f"{first} and {second} are the same person ({ones[0].name}); two people must approve"


def check_go_no_go(approvals: Sequence[Approval]) -> ApprovalResult:
    """GL-6: Product Owner and Release Captain confirmed go (runbook 2.3)."""
    found, missing = pair(approvals, PRODUCT_OWNER, RELEASE_CAPTAIN)
    given = [str(a) for a in approvals]
    if found is None:
        return ApprovalResult(
            "GL-6", False, f"go/no-go not confirmed: {missing}", Category.CONFIG, details={"given": given}
        )
    return ApprovalResult(
        "GL-6",
        True,
        f"go confirmed by {found[0]} and {found[1]}",
        details={"given": given},
        used=found,
    )
