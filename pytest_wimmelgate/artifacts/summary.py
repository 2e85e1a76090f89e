"""``gate-summary.json`` (schema ``wimmelgate/gate-summary/v1``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core.verdict import CheckRecord, Verdict

SCHEMA = "wimmelgate/gate-summary/v1"


def build(
    *,
    gates: Sequence[str],
    environment: str,
    environment_source: str,
    version: str,
    commit: str,
    tester: str,
    started_at: str,
    finished_at: str,
    verdict: Verdict,
    records: Sequence[CheckRecord],
    run_id: str,
    approvals: Sequence[str],
    exit_status: int,
    fault_intervals: Sequence[dict[str, Any]] = (),
    waiver_until: Mapping[str, str | None] | None = None,
    selection: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "gates": list(gates),
        "environment": environment,
        "version": version,
        "commit": commit,
        "tester": tester,
        "verdict": verdict.verdict,
        "complete": verdict.complete,
        "selection": dict(selection or {}),
        "not_run": list(verdict.not_run),
        "started_at": started_at,
        "finished_at": finished_at,
        "counts": dict(verdict.counts),
        "checks": [r.to_json() for r in records],
        "reasons": verdict.reasons,
        "warnings": verdict.warnings,
        "notes": list(notes),
        "waivers": [{**w, "until": (waiver_until or {}).get(w["id"])} for w in verdict.waivers],
        "approvals": list(approvals),
        "run_id": run_id,
        "environment_source": environment_source,
        "exit_status": exit_status,
        "fault_intervals": list(fault_intervals),
    }


def write(path: Path, summary: dict[str, Any], secrets: SecretSet) -> None:
    text = json.dumps(secrets.redact_tree(summary), indent=2, ensure_ascii=False)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
