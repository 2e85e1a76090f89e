"""Whole gates only: which catalogue checks of the selected gates did not run, and why.

A gate's verdict covers every catalogue check of the gate. `SelectionTracker` (a plugin
object of the gate run) records the run's selection (``-m``, ``-k``, ``--lf``,
``--deselect``, paths, ``-x``/``--maxfail``), every check item pytest deselected with the
option that did it, and every check item collected; on xdist the workers send theirs
to the controller. `not_run` then lists each check of the gates that has no outcome,
with why, and tells which of them an environment rule excludes (a protected
environment's destructive checks) or a waiver covers: only those keep a run complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.core import selection

WORKER_OUTPUT = "wimmelgate_selection"
INTENT = "not run: a destructive check runs only when -m selects its gate (e.g. -m staging_gate)"


@dataclass(frozen=True)
class Selection:
    """What the user asked pytest to run, as the summary records it."""

    markexpr: str = ""
    keyword: str | None = None
    args: tuple[str, ...] = ()
    last_failed: bool = False
    deselect: tuple[str, ...] = ()
    maxfail: int = 0

    @classmethod
    def of(cls, config: pytest.Config) -> Selection:
        option = config.option
        return cls(
            markexpr=option.markexpr or "",
            keyword=option.keyword or None,
            args=tuple(config.args) if config.args_source == pytest.Config.ArgsSource.ARGS else (),
            last_failed=bool(getattr(option, "lf", False)),
            deselect=tuple(getattr(option, "deselect", None) or ()),
            maxfail=int(getattr(option, "maxfail", 0) or 0),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["args"], data["deselect"] = list(self.args), list(self.deselect)
        return data

    def why_deselected(self, item: pytest.Item) -> str:
        """The option that took ``item`` out of the run."""
        from pytest_wimmelgate.core import pytest_seam

        if any(item.nodeid.startswith(prefix) for prefix in self.deselect):
            return "deselected by --deselect"
        if self.keyword and not pytest_seam.matches_keyword(item, self.keyword):
            return "deselected by -k"
        if self.markexpr and not pytest_seam.matches_markers(item, self.markexpr):
            return "deselected by -m"
        if self.last_failed:
            return "deselected by --lf"
        return "deselected"


@dataclass(frozen=True)
class NotRun:
    """A catalogue check of the run's gates without an outcome."""

    id: str
    why: str
    #: excluded by an environment rule or waived: the run stays complete
    excused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "why": self.why, "excused": self.excused}


@dataclass
class SelectionTracker:
    """Records deselected and collected check items; a plugin object of the gate run."""

    selection: Selection
    worker: bool = False
    deselected: dict[str, str] = field(default_factory=dict)  # check id -> why
    collected: dict[str, str] = field(default_factory=dict)  # nodeid -> check id

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Destructive checks need intent: a run whose ``-m`` names no gate leaves them out."""
        if selection.names_gate(self.selection.markexpr):
            return
        kept: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            (dropped if item.get_closest_marker(catalogue.DESTRUCTIVE_MARKER) else kept).append(item)
        if dropped:
            for item in dropped:
                check_id = _check_id(item)
                if check_id:
                    self.deselected.setdefault(check_id, INTENT)
            items[:] = kept
            config.hook.pytest_deselected(items=dropped)

    @pytest.hookimpl
    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        for item in items:
            check_id = _check_id(item)
            if check_id:
                self.deselected.setdefault(check_id, self.selection.why_deselected(item))

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            check_id = _check_id(item)
            if check_id:
                self.collected[item.nodeid] = check_id

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if self.worker and output is not None:
            output[WORKER_OUTPUT] = json.dumps({"deselected": self.deselected, "collected": self.collected})

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        raw = (getattr(node, "workeroutput", None) or {}).get(WORKER_OUTPUT)
        if raw:
            data = json.loads(raw)
            for check_id, why in data["deselected"].items():
                self.deselected.setdefault(check_id, why)
            self.collected.update(data["collected"])


def _check_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker(catalogue.CHECK_MARKER)
    return str(marker.args[0]) if marker and marker.args else None


def expected_checks(gates: Iterable[str]) -> tuple[str, ...]:
    """Every catalogue check id of ``gates``, in catalogue order."""
    return tuple(c.id for c in catalogue.active().checks_of(gates))


def not_run(
    *,
    gates: Iterable[str],
    ran: Iterable[str],
    tracker: SelectionTracker,
    stopped_early: bool,
    interrupted: bool,
    protected: bool,
    allow_destructive: bool,
    waivers: Mapping[str, str],
) -> list[NotRun]:
    """Each check of ``gates`` that has no outcome in this run, with why."""
    done = set(ran)
    collected = set(tracker.collected.values())
    missing: list[NotRun] = []
    for check_id in expected_checks(gates):
        if check_id in done:
            continue
        if check_id in tracker.deselected:
            why = tracker.deselected[check_id]
        elif check_id in collected:
            why = (
                "interrupted before it ran"
                if interrupted
                else ("stopped early (-x/--maxfail)" if stopped_early else "collected but not run")
            )
        elif interrupted:
            why = "interrupted before it ran"
        else:
            why = "not collected" + (" (--lf)" if tracker.selection.last_failed else "")
        check = catalogue.check_by_id(check_id)
        if check is not None and check.destructive and protected and not allow_destructive:
            missing.append(NotRun(check_id, f"{why}; destructive, not run on a protected environment", True))
        elif check_id in waivers:
            missing.append(NotRun(check_id, f"{why}; waived: {waivers[check_id]}", True))
        else:
            missing.append(NotRun(check_id, why))
    return missing


def gates_of_run(markexpr: str, ran_gates: Iterable[str]) -> list[str]:
    """The gates a run covers: those ``-m`` names, else every gate of the checks that ran."""
    named = selection.gates_in(markexpr)
    if named:
        return named
    seen = set(ran_gates)
    return [g for g in catalogue.gate_names() if g in seen]
