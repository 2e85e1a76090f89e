"""The run's catalogue coverage as an Allure result, so the report shows it too.

Allure 2 has no launch-level attachment; the coverage of the gates this run selected
becomes one clearly named result ("Catalogue coverage") with the table attached, failed
when a check of those gates has no test. It is evidence in the report only: the verdict
never counts it. It is the one result not titled by a check id.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import active
from pytest_wimmelgate.catalogue.coverage import build_coverage, coverage_markdown


def write(
    results_dir: Path, run_dir: Path, *, gates: Sequence[str], found: Mapping[str, Sequence[str]], runbook_url: str
) -> bool:
    """Write ``catalogue-coverage.md`` and its Allure result; True when every check has a test."""
    checks = list(active().checks_of(gates) if gates else active().checks)
    coverage = build_coverage(found, checks=checks)
    text = coverage_markdown(coverage, runbook_url=runbook_url)
    (run_dir / "catalogue-coverage.md").write_text(text, encoding="utf-8")
    attachment = f"{uuid.uuid4()}-attachment.md"
    (results_dir / attachment).write_text(text, encoding="utf-8")
    now = int(time.time() * 1000)
    missing = ", ".join(coverage.missing)
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": "wimmelgate-catalogue-coverage-" + "+".join(gates),
        "name": f"Catalogue coverage: {', '.join(gates) or 'all gates'}",
        "fullName": "wimmelgate.catalogue.coverage",
        "status": "passed" if coverage.complete else "failed",
        "statusDetails": {"message": f"catalogue checks without a test: {missing}"} if missing else {},
        "stage": "finished",
        "start": now,
        "stop": now,
        "labels": [
            {"name": "epic", "value": "catalogue coverage"},
            {"name": "suite", "value": "wimmelgate"},
            {"name": "severity", "value": "trivial"},
        ],
        "attachments": [{"name": "catalogue coverage", "source": attachment, "type": "text/markdown"}],
    }
    (results_dir / f"{uuid.uuid4()}-result.json").write_text(json.dumps(result), encoding="utf-8")
    return coverage.complete
