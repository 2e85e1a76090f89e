"""Everything a gate run leaves in its run folder, written once on the controller.

`write_bundle` takes the finished run (`RunOutcome`) and writes the summary, the Allure
extras, the redacted JUnit file, the catalogue coverage, the report and, last, the
manifest over all of it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_wimmelgate.artifacts import allure_extras, coverage_result, summary
from pytest_wimmelgate.artifacts.manifest import write_manifest
from pytest_wimmelgate.artifacts.report import generate_report
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core.run import RunContext, iso, utc_now
from pytest_wimmelgate.core.verdict import CheckRecord, Verdict
from pytest_wimmelgate.faults.journal import FaultJournal


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


@dataclass(frozen=True)
class BundleResult:
    """What writing the bundle found out: whether the report was made, and a note for the terminal."""

    report_ok: bool
    report_note: str | None


def write_bundle(run: RunOutcome) -> BundleResult:
    """Write every artifact of the run folder; the manifest comes last."""
    context, secrets = run.context, run.secrets
    finished = iso(utc_now())
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
        fault_intervals=[fault.to_json() for fault in FaultJournal(run.run_dir).intervals()],
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
    coverage_result.write(results, run.run_dir, gates=list(run.gates), found=found, runbook_url=run.runbook_url)
    if run.user_allure_dir:
        shutil.copytree(results, run.user_allure_dir, dirs_exist_ok=True)
    report = generate_report(
        run.run_dir, mode=run.report_mode, cli=list(run.allure_cli) if run.allure_cli is not None else None
    )
    write_manifest(run.run_dir)
    return BundleResult(report_ok=report.ok, report_note=f"report: {report.note}" if report.note else None)
