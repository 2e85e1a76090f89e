"""Everything a gate run leaves in its run folder, written once on the controller.

`write_bundle` takes the finished run (`RunOutcome`) and writes the summary, the Allure
extras, the redacted JUnit file, the catalogue coverage, the finalised Allure results, the
release note, the report folder (decision page ``report/index.html``, full Allure report
``report/allure.html``, rendered runbook ``report/runbook.html``) and, last, the manifest
over all of it. `rebuild_report` makes the report folder again for an existing run folder
(``wimmelgate report``) and rewrites the manifest, refusing when other evidence changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pytest_wimmelgate.artifacts import (
    allure_extras,
    allure_results,
    coverage_result,
    decision_page,
    release_note,
    runbook_page,
    summary,
)
from pytest_wimmelgate.artifacts.leak_scan import LeakScan, LeakScanner, record_in_summary
from pytest_wimmelgate.artifacts.manifest import MANIFEST, verify_manifest, write_manifest
from pytest_wimmelgate.artifacts.report import REPORT, RESULTS, ReportResult, generate_report
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core.run import RunContext, iso, utc_now
from pytest_wimmelgate.core.verdict import CheckRecord, Verdict
from pytest_wimmelgate.faults.journal import FaultJournal

DESCRIBED_WAIVER = re.compile(r"^(?P<reason>.*) \(until (?P<until>\d{4}-\d{2}-\d{2})\)$", re.S)


@dataclass(frozen=True)
class RunOutcome:
    """A finished gate run as the artifacts see it."""

    run_dir: Path
    gates: Sequence[str]
    environment: str
    environment_source: str
    context: RunContext
    verdict: Verdict
    records: Sequence[CheckRecord]
    exit_status: int
    base_url: str
    runbook_url: str
    secrets: SecretSet
    report_mode: str = "auto"
    allure_cli: Sequence[str] | None = None
    user_allure_dir: str | None = None
    #: notes of passed checks (``ID: text``): what they could not verify and why
    notes: Sequence[str] = ()
    #: the environment's waiver entries (``Waiver`` objects or ``{id, reason, until}`` mappings), for their expiry
    waivers: Sequence[Any] = field(default_factory=tuple)
    #: the project root (pytest's rootdir), where a relative ``runbook_url`` is found
    rootdir: Path | None = None


@dataclass(frozen=True)
class BundleResult:
    """What writing the bundle found out: whether the report was made, and a note for the terminal."""

    report_ok: bool
    report_note: str | None
    leak_scan: LeakScan | None = None  # the leak gate's result; findings make the run NO-GO


def write_bundle(run: RunOutcome) -> BundleResult:
    """Write every artifact of the run folder; the manifest comes last."""
    context, secrets = run.context, run.secrets
    finished = iso(utc_now())
    waived = applied_waivers(run.records, run.waivers)
    data = summary.build(
        gates=run.gates,
        environment=run.environment,
        environment_source=run.environment_source,
        version=context.version,
        commit=context.commit,
        tester=context.tester,
        started_at=context.started_at,
        finished_at=finished,
        verdict=run.verdict,
        records=run.records,
        run_id=context.run_id,
        approvals=context.approvals,
        exit_status=run.exit_status,
        selection=context.selection,
        notes=run.notes,
        fault_intervals=[fault.to_json() for fault in FaultJournal(run.run_dir).intervals()],
        waiver_until={check_id: facts.until for check_id, facts in waived.items()},
    )
    summary.write(run.run_dir / "gate-summary.json", data, secrets)
    results = run.run_dir / "allure-results"
    allure_extras.write_all(
        results,
        properties={
            "environment": run.environment,
            "environment.source": run.environment_source,
            "version": context.version,
            "commit": context.commit,
            "gates": ", ".join(run.gates),
            "base_url": run.base_url,
            "tester": context.tester,
            "started_at": context.started_at,
            "finished_at": finished,
            "verdict": run.verdict.verdict,
            "run_id": context.run_id,
            "runbook_url": run.runbook_url,
        },
        environ=dict(os.environ),
        secrets=secrets,
    )
    junit = run.run_dir / "junit.xml"
    if junit.is_file():
        junit.write_bytes(secrets.redact_bytes(junit.read_bytes()))
    found: dict[str, list[str]] = {}
    for record in run.records:
        if record.id:
            found.setdefault(record.id, []).append(record.nodeid)
    coverage_result.write(
        results, run.run_dir, gates=list(run.gates), found=found, runbook_url=_folder_runbook_base(run.runbook_url)
    )
    if waived or tuple(run.gates) != tuple(context.gates):  # else every result was written final (ResultShape)
        allure_results.finalise(results, gates=list(run.gates), waivers=waived, secrets=secrets)
    if run.user_allure_dir:
        shutil.copytree(results, run.user_allure_dir, dirs_exist_ok=True)
    scanner = LeakScanner(run.run_dir, secrets, extra=[run.user_allure_dir])  # the leak gate (issue 16)
    if record_in_summary(data, scanner.scan()):  # before the pages, so they show its verdict
        summary.write(run.run_dir / "gate-summary.json", data, secrets)
    ci_run = allure_extras.executor(os.environ, run_dir=str(run.run_dir)).get("buildUrl") or None
    release_note.write(run.run_dir, data, secrets, ci_run=ci_run)
    report = write_report_folder(
        run.run_dir,
        data,
        mode=run.report_mode,
        cli=list(run.allure_cli) if run.allure_cli is not None else None,
        runbook_url=run.runbook_url,
        root=run.rootdir,
        secrets=secrets,
        ci_run=ci_run,
    )
    record_in_summary(data, scan := scanner.scan())  # the pages written since
    summary.write(run.run_dir / "gate-summary.json", data, secrets)
    write_manifest(run.run_dir)
    return BundleResult(report_ok=report.ok, report_note=f"report: {report_line(run.run_dir, report)}", leak_scan=scan)


def write_report_folder(
    run_dir: Path,
    data: Mapping[str, Any],
    *,
    mode: str,
    cli: list[str] | None,
    runbook_url: str,
    root: Path | None,
    secrets: SecretSet | None,
    ci_run: str | None = None,
    timeout_s: float = 180,
) -> ReportResult:
    """``report/``: the rendered runbook, the full Allure report, then the decision page linking both."""
    folder = run_dir / REPORT
    folder.mkdir(exist_ok=True)
    runbook_link = write_runbook(folder, runbook_url, root)
    report = generate_report(run_dir, mode=mode, cli=cli, timeout_s=timeout_s, root=root)
    links = decision_page.Links(
        allure=report.path.name if report.ok and report.path else None,
        allure_note=report.note,
        runbook=runbook_link,
        ci_run=ci_run,
    )
    decision_page.write(folder, data, links, secrets)
    return report


def report_line(run_dir: Path, report: ReportResult) -> str:
    """The terminal's one line about the report: the decision page, then what became of the full report."""
    return f"{run_dir / REPORT / decision_page.PAGE} (release decision); {report.note}"


def write_runbook(folder: Path, runbook_url: str, root: Path | None) -> str:
    """Render a relative ``runbook_url`` into ``runbook.html`` (a note page when it is not found); the link base."""
    if runbook_url.startswith(("http://", "https://")):
        return runbook_url
    source = find_runbook(runbook_url, root)
    if source is not None:
        runbook_page.write(source, folder)
    elif not (folder / runbook_page.PAGE).is_file():
        missing = f"# Runbook not found\n\n`{runbook_url}` was not found when this report was made. Set `runbook_url`"
        missing += " in the environment file to the runbook's absolute URL so the report's links resolve.\n"
        (folder / runbook_page.PAGE).write_text(runbook_page.render(missing, title="Runbook not found"), "utf-8")
    return runbook_page.PAGE


def find_runbook(runbook_url: str, root: Path | None) -> Path | None:
    """The runbook file of a relative ``runbook_url``: under the project root, the working directory, or the
    checkout this package runs from (editable installs)."""
    relative = Path(runbook_url.split("#", 1)[0])
    checkout = Path(__file__).resolve().parents[2]
    for base in (root, Path.cwd(), checkout):
        if base is not None and (base / relative).is_file():
            return base / relative
    return None


def applied_waivers(records: Sequence[CheckRecord], entries: Sequence[Any]) -> dict[str, allure_results.WaiverFacts]:
    """Reason and expiry of each waiver that applied to a check of this run, by check id."""
    by_id = {str(_field(e, "id")): e for e in entries if _field(e, "part") is None}
    waived: dict[str, allure_results.WaiverFacts] = {}
    for record in records:
        if not record.id or not record.waiver:
            continue
        entry = by_id.get(record.id)
        if entry is None:  # only the verdict's text is known: "reason (until 2026-12-31)"
            described = DESCRIBED_WAIVER.match(record.waiver)
            reason, until = (described["reason"], described["until"]) if described else (record.waiver, None)
        else:
            reason, until = str(_field(entry, "reason")), _field(entry, "until")
        waived[record.id] = allure_results.WaiverFacts(
            reason, until.isoformat() if isinstance(until, date) else (str(until)[:10] if until else None)
        )
    return waived


def rebuild_report(
    run_dir: Path, *, cli: list[str] | None, root: Path | None = None, timeout_s: float = 180
) -> tuple[ReportResult | None, list[str]]:
    """Make ``report/`` again and rewrite the manifest (``wimmelgate report``).

    Refuses (returns the problems, writes nothing) when files outside ``report/`` and the trend history
    differ from the manifest: regenerating must not bless changed evidence.
    """
    problems = [p for p in verify_manifest(run_dir) if not _rebuilt(p)] if (run_dir / MANIFEST).is_file() else []
    if problems:
        return None, problems
    data = json.loads((run_dir / "gate-summary.json").read_text(encoding="utf-8"))
    executor_file = run_dir / RESULTS / "executor.json"
    executor = json.loads(executor_file.read_text(encoding="utf-8")) if executor_file.is_file() else {}
    runbook_url = _recorded_runbook_url(run_dir)
    report = write_report_folder(
        run_dir,
        data,
        mode="required",
        cli=cli,
        runbook_url=runbook_url,
        root=root,
        secrets=None,
        ci_run=executor.get("buildUrl") or None,
        timeout_s=timeout_s,
    )
    write_manifest(run_dir)
    return report, []


def _rebuilt(problem: str) -> bool:
    """Whether a manifest problem concerns a file `rebuild_report` rewrites anyway."""
    name = problem.split(":", 1)[0]
    return name.startswith((f"{REPORT}/", "history/", f"{RESULTS}/history/"))


def _recorded_runbook_url(run_dir: Path) -> str:
    """The run's ``runbook_url`` as ``environment.properties`` recorded it (default ``docs/runbook.md``)."""
    properties = run_dir / RESULTS / "environment.properties"
    lines = properties.read_text(encoding="utf-8").splitlines() if properties.is_file() else []
    for line in lines:
        if line.startswith("runbook_url="):
            return re.sub(r"\\(.)", r"\1", line[len("runbook_url=") :])
    return "docs/runbook.md"


def _folder_runbook_base(runbook_url: str) -> str:
    """Runbook links in files of the run folder itself (catalogue-coverage.md) point at the rendered page."""
    return runbook_url if runbook_url.startswith(("http://", "https://")) else f"{REPORT}/{runbook_page.PAGE}"


def _field(entry: Any, name: str) -> Any:
    if entry is None:
        return None
    return entry.get(name) if isinstance(entry, Mapping) else getattr(entry, name, None)
