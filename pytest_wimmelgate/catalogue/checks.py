"""The check catalogue: every runbook line as a check id, its gates and runbook section.

The rows are data: the built-in catalogue ships as ``catalogue/wimmelwelt.yaml`` and a
project adds its own checks and gates in a catalogue file of its own
(`pytest_wimmelgate.catalogue.project`); `pytest_wimmelgate.catalogue.loading` reads and
validates both into one `Catalogue`.

The *active* catalogue is the one of the pytest run in progress: ``pytest_configure``
activates the built-in catalogue plus the project's file and deactivates it when the run
ends; outside a run it is the built-in one. The lookups below (`check_by_id`,
`gate_names`, `runbook_link`, and the module attributes ``GATES``, ``CHECKS`` and
``RUNBOOK_HEADINGS``) read the active catalogue, so the report writers, which run without
a pytest config at hand, see a team's checks too. It is the one piece of module state
here: a stack, so an in-process pytest run inside another (pytester) restores the outer
run's catalogue when it ends.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

RUNBOOK_URL = "docs/runbook.md"
DESTRUCTIVE_MARKER = "destructive"
CHECK_MARKER = "check"
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
DEFAULT_SEVERITY = "critical"


@dataclass(frozen=True)
class Gate:
    """A gate marker: a named selection of checks with a verdict of its own."""

    name: str
    description: str
    sections: tuple[str, ...]
    #: the catalogue file that declares it
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class Check:
    """One catalogue row: a runbook requirement that suites implement."""

    id: str
    gates: tuple[str, ...]
    title: str
    sections: tuple[str, ...]
    area: str
    destructive: bool = False
    #: environment-file sections the check reads; a run resolves only these.
    uses: tuple[str, ...] = ()
    #: the Allure severity a test gets unless it sets its own
    severity: str = DEFAULT_SEVERITY
    #: the catalogue file that declares it
    source: str = field(default="", compare=False)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Gates, checks and runbook headings, in file order (built-in first)."""

    gates: tuple[Gate, ...]
    checks: tuple[Check, ...]
    headings: Mapping[str, str]
    #: the files it was read from, built-in first
    sources: tuple[str, ...] = ()

    @functools.cached_property
    def _by_id(self) -> dict[str, Check]:
        return {check.id: check for check in self.checks}

    def check_by_id(self, check_id: str) -> Check | None:
        return self._by_id.get(check_id)

    def gate_names(self) -> tuple[str, ...]:
        return tuple(gate.name for gate in self.gates)

    def checks_of(self, gates: Iterable[str]) -> tuple[Check, ...]:
        """The checks belonging to any of ``gates``, in catalogue order."""
        wanted = set(gates)
        return tuple(check for check in self.checks if wanted & set(check.gates))


@functools.cache
def builtin() -> Catalogue:
    """The catalogue shipped with the plugin (``catalogue/wimmelwelt.yaml``), read once per process."""
    from pytest_wimmelgate.catalogue.loading import load_builtin

    return load_builtin()


_ACTIVE: list[Catalogue] = []


def active() -> Catalogue:
    """The catalogue of the pytest run in progress; the built-in one outside a run."""
    return _ACTIVE[-1] if _ACTIVE else builtin()


def activate(catalogue: Catalogue) -> Callable[[], None]:
    """Make ``catalogue`` the active one; returns the function that deactivates it again."""
    _ACTIVE.append(catalogue)

    def deactivate() -> None:
        for index in range(len(_ACTIVE) - 1, -1, -1):
            if _ACTIVE[index] is catalogue:
                del _ACTIVE[index]
                return

    return deactivate


if TYPE_CHECKING:
    GATES: tuple[Gate, ...]
    CHECKS: tuple[Check, ...]
    RUNBOOK_HEADINGS: Mapping[str, str]


def __getattr__(name: str) -> Any:
    """``GATES``, ``CHECKS`` and ``RUNBOOK_HEADINGS`` of the active catalogue (read at each access)."""
    if name == "GATES":
        return active().gates
    if name == "CHECKS":
        return active().checks
    if name == "RUNBOOK_HEADINGS":
        return active().headings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def gate_names() -> tuple[str, ...]:
    return active().gate_names()


def check_by_id(check_id: str) -> Check | None:
    return active().check_by_id(check_id)


def heading_anchor(heading: str) -> str:
    """GitHub/GitLab-style anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lower(), flags=re.UNICODE)
    return text.replace(" ", "-")


def runbook_link(base_url: str, section: str) -> str:
    """Link to a runbook section, e.g. ``docs/runbook.md#22-staging-gate-t-12h``."""
    heading = active().headings.get(section, section)
    return f"{base_url}#{heading_anchor(heading)}"
