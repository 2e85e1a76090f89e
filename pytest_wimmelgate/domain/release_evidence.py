"""GL-5: a GO staging gate for the same version and commit is in the release folder.

Style: :func:`check_staging_go` returns an :class:`EvidenceResult`; a failed requirement
is ``ok=False``; ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`.

Layout (DESIGN.md): ``<root>/<version>/<environment>/<gates>-<UTC yyyymmddThhmmssZ>/
gate-summary.json`` with schema ``wimmelgate/gate-summary/v1``. The candidates are the
summaries under ``<root>/<version>/staging/`` whose ``gates`` list holds ``staging_gate``;
the newest run (by the directory's UTC stamp, else ``started_at``) decides:

- only complete runs count (``"complete": true``: every check of the gate ran); a partial
  run (``-k``, ``--lf``, ``-m "... and not destructive"``) is never the staging GO;
- verdict ``GO`` and the same commit → pass, naming the file;
- verdict not ``GO`` → fail naming the file (a later NO-GO overrides an earlier GO);
- another commit, version or environment in the summary → fail naming the file and both
  values;
- no run at all → ``no data``.

Commits match when one is a prefix of the other and the shorter has at least 7 hex
digits (short and full SHAs). Summaries that cannot be read or have another schema are
skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config.times import parse_external_instant
from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category

SCHEMA = "wimmelgate/gate-summary/v1"
SUMMARY = "gate-summary.json"
_STAMP = re.compile(r"-(\d{8}T\d{6}Z)$")


@dataclass(frozen=True)
class EvidenceResult(CheckResult):
    """Outcome of GL-5, naming the summary that proved or disproved it."""

    summary_path: str | None = None

    def extra_evidence(self) -> dict[str, Any]:
        return {"summary": self.summary_path}


@dataclass(frozen=True)
class GateRun:
    """One gate summary on disk."""

    path: Path
    stamp: datetime
    summary: Mapping[str, Any]


def commits_match(found: str, wanted: str) -> bool:
    """Same commit, allowing a short SHA (at least 7 hex digits) for either."""
    a, b = found.strip().lower(), wanted.strip().lower()
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 7 and re.fullmatch(r"[0-9a-f]+", short) is not None and long_.startswith(short)


def _stamp(run_dir: Path, summary: Mapping[str, Any]) -> datetime | None:
    m = _STAMP.search(run_dir.name)
    if m:
        return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return parse_external_instant(summary.get("started_at"))


def gate_runs(
    root: str | Path, version: str, environment: str = "staging", gate: str = "staging_gate"
) -> tuple[list[GateRun], list[str]]:
    """Runs of ``gate`` for ``version`` in ``environment``, newest first; skipped files."""
    base = Path(root) / version / environment
    runs: list[GateRun] = []
    skipped: list[str] = []
    if not base.is_dir():
        return runs, skipped
    for path in sorted(base.glob(f"*/{SUMMARY}")):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            skipped.append(str(path))
            continue
        if not isinstance(summary, dict) or summary.get("schema") != SCHEMA:
            skipped.append(str(path))
            continue
        gates = summary.get("gates")
        if not isinstance(gates, list) or gate not in gates:
            continue
        stamp = _stamp(path.parent, summary)
        if stamp is None:
            skipped.append(str(path))
            continue
        runs.append(GateRun(path, stamp, summary))
    runs.sort(key=lambda r: (r.stamp, r.path.parent.name), reverse=True)
    return runs, skipped


def check_staging_go(
    root: str | Path,
    version: str,
    commit: str,
    environment: str = "staging",
    gate: str = "staging_gate",
) -> EvidenceResult:
    """GL-5: the newest ``gate`` run of ``version`` in ``environment`` is GO for ``commit``."""
    base = Path(root) / version / environment
    found, skipped = gate_runs(root, version, environment, gate)
    runs = [r for r in found if r.summary.get("complete") is True]
    partial = [str(r.path) for r in found if r.summary.get("complete") is not True]
    details: dict[str, Any] = {
        "release_dir": str(base),
        "version": version,
        "commit": commit,
        "runs": len(runs),
        "incomplete_runs_ignored": partial,
        "skipped_files": skipped,
    }
    note = f" ({len(skipped)} unreadable summaries skipped)" if skipped else ""
    if partial:
        note += f" ({len(partial)} incomplete runs ignored: a partial run is never the staging GO)"
    if not runs:
        return EvidenceResult(
            "GL-5",
            False,
            f"no complete {gate} run for version {version} in {base}{note}",
            Category.NO_DATA,
            details=details,
        )
    newest = runs[0]
    s = newest.summary
    path = str(newest.path)
    details.update(
        verdict=s.get("verdict"),
        run_commit=s.get("commit"),
        finished_at=s.get("finished_at"),
        tester=s.get("tester"),
        older_runs=[str(r.path) for r in runs[1:6]],
    )
    differs = []
    if str(s.get("version", "")) != version:
        differs.append(f"version {s.get('version')!s} != {version}")
    if str(s.get("environment", "")) != environment:
        differs.append(f"environment {s.get('environment')!s} != {environment}")
    if not commits_match(str(s.get("commit") or ""), commit):
        differs.append(f"commit {s.get('commit') or 'unknown'} != {commit}")
    if differs:
        return EvidenceResult(
            "GL-5",
            False,
            f"newest {gate} run {path} does not match: " + "; ".join(differs) + note,
            Category.PRODUCT,
            details=details,
            summary_path=path,
        )
    if s.get("verdict") != "GO":
        return EvidenceResult(
            "GL-5",
            False,
            f"newest {gate} run {path} has verdict {s.get('verdict')} for {version} @ {commit}{note}",
            Category.PRODUCT,
            details=details,
            summary_path=path,
        )
    return EvidenceResult(
        "GL-5", True, f"{gate} GO for {version} @ {commit}: {path}{note}", details=details, summary_path=path
    )
