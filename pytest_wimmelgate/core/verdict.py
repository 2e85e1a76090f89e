"""GO / NO-GO from check outcomes, by the fail-closed rules of DESIGN.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

BLOCKING_SEVERITIES = frozenset({"blocker", "critical", "normal"})
WARNING_SEVERITIES = frozenset({"minor", "trivial"})
DEFAULT_SEVERITY = "critical"
GO, NO_GO = "GO", "NO-GO"


@dataclass(frozen=True)
class CheckRecord:
    """The outcome of one check as the verdict sees it."""

    id: str | None
    nodeid: str
    gates: tuple[str, ...]
    outcome: str  # passed | failed | skipped | interrupted
    severity: str = DEFAULT_SEVERITY
    required: bool = True
    reason: str | None = None
    category: str | None = None
    duration_s: float = 0.0
    safety_skip: bool = False
    waiver: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "nodeid": self.nodeid,
            "gates": list(self.gates),
            "outcome": self.outcome,
            "severity": self.severity,
            "required": self.required,
            "reason": self.reason,
            "category": self.category,
            "duration_s": round(self.duration_s, 3),
            "safety_skip": self.safety_skip,
            "waiver": self.waiver,
        }


@dataclass(frozen=True)
class Finding:
    """One line of the verdict's explanation."""

    level: str  # NO-GO | WARN
    check: str
    text: str


@dataclass(frozen=True)
class Verdict:
    verdict: str
    counts: dict[str, int]
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    waivers: tuple[dict[str, str], ...] = ()
    #: every catalogue check of the run's gates has an outcome (or is excused by a rule or waiver)
    complete: bool = True
    not_run: tuple[dict[str, Any], ...] = ()

    @property
    def go(self) -> bool:
        return self.verdict == GO

    @property
    def reasons(self) -> list[str]:
        return [f"{f.check}: {f.text}" for f in self.findings if f.level == NO_GO]

    @property
    def warnings(self) -> list[str]:
        return [f"{f.check}: {f.text}" for f in self.findings if f.level == "WARN"]


def apply_waivers(records: Iterable[CheckRecord], waivers: Mapping[str, str]) -> list[CheckRecord]:
    """Attach the environment's waiver reason to records of waived check ids."""
    return [replace(r, waiver=waivers[r.id]) if r.id and r.id in waivers else r for r in records]


def decide(
    records: Iterable[CheckRecord],
    *,
    no_selection_reason: str = "",
    not_run: Iterable[Any] = (),
    run_warnings: Iterable[str] = (),
    interrupted: str = "",
) -> Verdict:
    """Apply the verdict rules; an empty selection is NO-GO, and so is an incomplete run.

    ``not_run``: the checks of the run's gates without an outcome (`completeness.NotRun`);
    one that no rule or waiver excuses makes the run incomplete. ``run_warnings``: warnings of
    the run as a whole (never NO-GO). ``interrupted``: why the run was stopped early (always NO-GO).
    """
    checks = list(records)
    counts = {"passed": 0, "failed": 0, "skipped": 0, "warned": 0, "interrupted": 0}
    findings: list[Finding] = []
    waivers: dict[str, str] = {}
    for record in checks:
        label = record.id or record.nodeid
        if record.outcome == "passed":
            counts["passed"] += 1
        elif record.outcome == "interrupted":
            counts["interrupted"] += 1
            findings.append(Finding(NO_GO, label, record.reason or "interrupted: the check did not finish"))
        elif record.outcome == "failed":
            if record.waiver:
                counts["warned"] += 1
                waivers[label] = record.waiver
                findings.append(Finding("WARN", label, f"failed but waived ({record.waiver}): {record.reason}"))
            elif record.severity in WARNING_SEVERITIES:
                counts["warned"] += 1
                findings.append(Finding("WARN", label, f"{record.severity} check failed: {record.reason}"))
            else:
                counts["failed"] += 1
                findings.append(Finding(NO_GO, label, record.reason or "failed"))
        else:
            counts["skipped"] += 1
            if record.safety_skip:
                findings.append(Finding("WARN", label, f"not run: {record.reason}"))
            elif record.waiver:
                waivers[label] = record.waiver
            elif record.required:
                findings.append(Finding(NO_GO, label, f"required check did not run: {record.reason or 'skipped'}"))
    if not checks and not interrupted:
        findings.append(Finding(NO_GO, "selection", no_selection_reason or "no check selected"))
    findings.extend(Finding("WARN", "run", text) for text in run_warnings)
    if interrupted:
        findings.append(Finding(NO_GO, "interrupted", interrupted))
    missing = list(not_run)
    for entry in missing:
        if not entry.excused:
            findings.append(Finding(NO_GO, "incomplete", f"{entry.id} {entry.why}"))
    complete = bool(checks) and not any(not entry.excused for entry in missing)
    verdict = NO_GO if any(f.level == NO_GO for f in findings) else GO
    waiver_list = tuple({"id": k, "reason": v} for k, v in sorted(waivers.items()))
    return Verdict(verdict, counts, tuple(findings), waiver_list, complete, tuple(e.to_json() for e in missing))
