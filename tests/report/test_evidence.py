"""No check passes without evidence: every gate of the catalogue on the sandbox, every passed check's Allure
result checked for what it saw (an attachment, in the result, its steps or its fixtures, or an evidence
parameter). The suites attach the evidence; this test only enforces it and names the checks that lack it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.catalogue.checks import CHECKS, gate_names
from tests.report.conftest import ROOT, clean_environ, run_suites

#: checks that pass on the sandbox whatever happens elsewhere; the test is void if these do not pass
ALWAYS_PASS_ON_THE_SANDBOX = {"SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7", "AL-1", "AL-2", "DR-1"}


def attachments(node: dict[str, Any]) -> int:
    return len(node.get("attachments", [])) + sum(attachments(step) for step in node.get("steps", []))


def fixture_attachments(uuid: str, containers: Iterable[dict[str, Any]]) -> int:
    return sum(
        attachments(fixture)
        for container in containers
        if uuid in container.get("children", [])
        for fixture in [*container.get("befores", []), *container.get("afters", [])]
    )


def evidence_of(result: dict[str, Any], containers: list[dict[str, Any]], parametrised: bool) -> bool:
    """Whether a result shows what its check saw; a parametrised test's parameters are not evidence."""
    if attachments(result) or fixture_attachments(result["uuid"], containers):
        return True
    return bool(result.get("parameters")) and not parametrised


@pytest.fixture(scope="module")
def every_gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One run of every gate of the catalogue on the sandbox (approvals given, so GL-6 can pass)."""
    workdir = tmp_path_factory.mktemp("every-gate")
    run = run_suites(
        workdir,
        "-m",
        " or ".join(gate_names()),
        "--wg-report=off",
        "--wg-approval=product-owner:Maria",
        "--wg-approval=release-captain:Jonas",
        cwd=ROOT,
        environ=clean_environ(WIMMELGATE_SANDBOX_PROMETHEUS="off"),
    )
    return run.summary, run.run_dir / "allure-results"


def test_every_passed_check_of_every_gate_has_evidence(every_gate: tuple[dict[str, Any], Path]) -> None:
    summary, results_dir = every_gate
    results = [json.loads(p.read_text("utf-8")) for p in results_dir.glob("*-result.json")]
    containers = [json.loads(p.read_text("utf-8")) for p in results_dir.glob("*-container.json")]
    nodeids = {c["id"]: c["nodeid"] for c in summary["checks"] if c.get("id")}
    passed = {c["id"] for c in summary["checks"] if c["outcome"] == "passed"}
    assert passed >= ALWAYS_PASS_ON_THE_SANDBOX, (
        f"the run proves nothing: {sorted(ALWAYS_PASS_ON_THE_SANDBOX - passed)}"
    )
    lacking = []
    for result in results:
        check_id = next((label["value"] for label in result["labels"] if label["name"] == "check"), None)
        if check_id is None or result["status"] != "passed":
            continue
        if not evidence_of(result, containers, parametrised="[" in nodeids.get(check_id, "")):
            lacking.append(f"{check_id} ({nodeids.get(check_id)})")
    assert not lacking, "passed without evidence (attach what the check saw): " + ", ".join(sorted(lacking))


def test_the_run_covered_the_whole_catalogue(every_gate: tuple[dict[str, Any], Path]) -> None:
    summary, _ = every_gate
    ran = {c["id"] for c in summary["checks"]}
    assert ran == {c.id for c in CHECKS}, f"not run: {sorted({c.id for c in CHECKS} - ran)}"


def test_evidence_counts_attachments_of_steps_and_fixtures_and_evidence_parameters() -> None:
    bare = {"uuid": "u1", "status": "passed"}
    assert not evidence_of(bare, [], parametrised=False)
    assert evidence_of({**bare, "steps": [{"steps": [{"attachments": [{"source": "a"}]}]}]}, [], parametrised=False)
    fixture = {"children": ["u1"], "befores": [{"attachments": [{"source": "b"}]}]}
    assert evidence_of(bare, [fixture], parametrised=False)
    assert not evidence_of(bare, [{**fixture, "children": ["other"]}], parametrised=False)
    with_parameter = {**bare, "parameters": [{"name": "recovery time (s)", "value": "1.2"}]}
    assert evidence_of(with_parameter, [], parametrised=False)
    assert not evidence_of(with_parameter, [], parametrised=True), "a pytest parameter is not evidence"
