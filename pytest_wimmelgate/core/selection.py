"""Which catalogue checks a run selects, known before collection.

The gate run must know early which environment sections it will read (to resolve
only those variables, and to start the sandbox only when needed). The ``-m``
expression is evaluated against each check's markers; without ``-m``, a run of the
``suites`` folder selects every check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import DESTRUCTIVE_MARKER, Check, active, gate_names

KEYWORDS = frozenset({"and", "or", "not"})
#: the gate suites as an installed package (``suites/`` of this repository, shipped in the wheel)
SUITES_PACKAGE = "wimmelgate_suites"


def names_in(markexpr: str) -> set[str]:
    return {n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", markexpr) if n not in KEYWORDS}


def markers_of(check: Check) -> set[str]:
    markers = set(check.gates) | {"check"}
    if check.destructive:
        markers.add(DESTRUCTIVE_MARKER)
    return markers


def gates_in(markexpr: str) -> list[str]:
    """Gate names the expression mentions, in catalogue order."""
    named = names_in(markexpr)
    return [g for g in gate_names() if g in named]


def is_gate_run(markexpr: str, args: Sequence[str], rootpath: Path, suites_dir: str = "suites") -> bool:
    if gates_in(markexpr) or DESTRUCTIVE_MARKER in names_in(markexpr):
        return True
    if markexpr:
        return False
    suites = (rootpath / suites_dir).resolve()
    for arg in args:
        target = arg.split("::")[0]
        if target.split(".")[0] == SUITES_PACKAGE or SUITES_PACKAGE in Path(target).parts:
            return True  # the installed suites: --pyargs wimmelgate_suites[.module], or a path into them
        path = (rootpath / target).resolve()
        if path == suites or suites in path.parents:
            return True
    return False


def selected_checks(markexpr: str) -> tuple[Check, ...]:
    """The checks whose markers satisfy the ``-m`` expression (all without one)."""
    if not markexpr.strip():
        return active().checks
    from pytest_wimmelgate.core.pytest_seam import expression_matcher, names_matcher

    evaluate = expression_matcher(markexpr)
    return tuple(check for check in active().checks if evaluate(names_matcher(markers_of(check))))


def names_gate(markexpr: str) -> bool:
    """Whether ``-m`` names a gate (or ``destructive``): the intent destructive checks need."""
    return bool(gates_in(markexpr)) or DESTRUCTIVE_MARKER in names_in(markexpr)


def sections_used(checks: Iterable[Check]) -> tuple[str, ...]:
    used: list[str] = []
    for check in checks:
        for section in check.uses:
            if section not in used:
                used.append(section)
    return tuple(used)
