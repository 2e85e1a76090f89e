"""A team's own checks from a catalogue file of its project: the same markers, labels, verdict rules, whole-gate
completeness and ``wimmelgate catalogue`` entry as the built-in ones; a clash with a built-in id is exit 4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate import cli

CATALOGUE = """
runbook_headings:
  "T.1": "T.1 Team checks"
gates:
  team_gate:
    description: "Our own release checks"
    sections: ["T.1"]
checks:
  TEAM-1:
    title: "search answers within budget"
    gates: [staging_gate, team_gate]
    sections: ["T.1"]
    area: search
  TEAM-2:
    title: "the changelog names the ticket"
    gates: [team_gate]
    sections: ["T.1"]
    area: release
    severity: minor
  TEAM-3:
    title: "search index rebuilt from scratch"
    gates: [team_gate]
    area: search
    destructive: true
"""

TEAM_TESTS = """
import pytest
from pytest_wimmelgate.errors import Category, CheckFailed

@pytest.mark.check("TEAM-1")
def test_search_budget(request):
    if request.config.getoption("--team1-fails"):
        raise CheckFailed(Category.SLO, "search answered in 1800 ms, budget 1000 ms")

@pytest.mark.check("TEAM-2")
def test_changelog_ticket():
    raise CheckFailed(Category.PRODUCT, "changelog entry 1.0.0 names no ticket")

@pytest.mark.check("TEAM-3")
def test_index_rebuild():
    pass
"""

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--team1-fails", action="store_true")
"""

#: the built-in checks of staging_gate, which these synthetic projects do not implement
BUILTIN_STAGING = ("SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7", "SG-8", "SG-9", "SG-10")


@pytest.fixture
def team_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with ``wimmelgate-catalogue.yaml`` (TEAM-1..3), their tests, and ``env.yaml`` waiving the built-in
    checks of ``staging_gate`` (the tests here are about the team's checks)."""
    waivers = "".join(f'  - {{id: {cid}, reason: "built-in, not under test here"}}\n' for cid in BUILTIN_STAGING)
    pytester.makefile(".yaml", env=f"name: testenv\nprotected: false\nwaivers:\n{waivers}")
    pytester.makefile(".yaml", **{"wimmelgate-catalogue": CATALOGUE})
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_team=TEAM_TESTS)
    return pytester


def gate(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any], Path]:
    release = pytester.path / "rel"
    before = set(release.glob("*/*/*")) if release.exists() else set()
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir", "rel", "--wg-report", "off", *args
    )
    [run_dir] = set(release.glob("*/*/*")) - before
    return result, json.loads((run_dir / "gate-summary.json").read_text()), run_dir


def allure_result(run_dir: Path, check_id: str) -> dict[str, Any]:
    for path in (run_dir / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        if {"name": "check", "value": check_id} in data.get("labels", []):
            return dict(data)
    raise AssertionError(f"no Allure result of {check_id}")


def test_team_gate_is_a_gate_with_the_catalogues_markers_labels_and_severities(team_project: pytest.Pytester) -> None:
    result, summary, run_dir = gate(team_project, "-m", "team_gate")
    assert result.ret == 0, "TEAM-2 is minor: its failure warns, the gate stays GO"
    result.stdout.fnmatch_lines(["*WARN*TEAM-2*changelog entry 1.0.0 names no ticket*", "*VERDICT: GO*"])
    assert summary["gates"] == ["team_gate"] and summary["complete"] is True
    by_id = {c["id"]: c for c in summary["checks"]}
    assert list(by_id) == ["TEAM-1", "TEAM-2", "TEAM-3"], "catalogue order"
    assert by_id["TEAM-1"]["gates"] == ["staging_gate", "team_gate"] and by_id["TEAM-1"]["severity"] == "critical"
    assert (by_id["TEAM-2"]["outcome"], by_id["TEAM-2"]["severity"]) == ("failed", "minor")
    assert by_id["TEAM-3"]["outcome"] == "passed", "-m names its gate: the destructive check runs"
    labels = allure_result(run_dir, "TEAM-1")
    assert labels["name"] == "TEAM-1 · search answers within budget"
    assert {"name": "feature", "value": "search"} in labels["labels"]
    assert {"name": "severity", "value": "critical"} in labels["labels"]
    assert {"name": "tag", "value": "team_gate"} in labels["labels"]
    assert {"type": "link", "url": "runbook.html#t1-team-checks", "name": "Runbook §T.1"} in labels["links"]
    assert {"name": "severity", "value": "minor"} in allure_result(run_dir, "TEAM-2")["labels"]
    assert "| TEAM-2 | the changelog names the ticket | failed |" in (run_dir / "release-note.md").read_text()
    page = (run_dir / "report" / "index.html").read_text()
    assert "search answers within budget" in page and 'href="runbook.html#t1-team-checks"' in page


def test_a_failing_critical_team_check_is_no_go_with_its_reason(team_project: pytest.Pytester) -> None:
    result, summary, _ = gate(team_project, "-m", "team_gate", "--team1-fails")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*NO-GO*TEAM-1*search answered in 1800 ms, budget 1000 ms*", "*VERDICT: NO-GO*"])
    assert summary["verdict"] == "NO-GO" and "TEAM-1: search answered in 1800 ms, budget 1000 ms" in summary["reasons"]


def test_a_built_in_gate_counts_the_team_check_it_holds(team_project: pytest.Pytester) -> None:
    result, summary, _ = gate(team_project, "-m", "staging_gate")
    assert result.ret == 0 and summary["complete"] is True
    assert [c["id"] for c in summary["checks"]] == ["TEAM-1"]
    result, summary, _ = gate(team_project, "-m", "staging_gate", "-k", "not search_budget")
    assert result.ret == 1 and summary["complete"] is False
    assert {"id": "TEAM-1", "why": "deselected by -k", "excused": False} in summary["not_run"]


def test_a_destructive_team_check_needs_intent_like_the_built_in_ones(team_project: pytest.Pytester) -> None:
    result, summary, _ = gate(team_project, "-m", "team_gate and not destructive")
    assert "TEAM-3" not in [c["id"] for c in summary["checks"]]
    assert summary["complete"] is False and summary["not_run"][0]["id"] == "TEAM-3"
    assert result.ret == 1


def test_team_gates_are_registered_markers(team_project: pytest.Pytester) -> None:
    result = team_project.runpytest("-p", "no:cacheprovider", "--markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["@pytest.mark.team_gate: gate - Our own release checks (runbook §T.1)"])
    team_project.makepyfile(test_marked="import pytest\n@pytest.mark.team_gate\ndef test_x(): pass\n")
    collected = team_project.runpytest("-p", "no:cacheprovider", "--strict-markers", "--co", "-q", "test_marked.py")
    assert collected.ret == 0, collected.stdout.str()


def test_a_team_check_with_a_built_in_id_is_exit_4(team_project: pytest.Pytester) -> None:
    clash = "checks:\n  SG-4: {title: mine, gates: [staging_gate]}\n"
    team_project.makefile(".yaml", **{"wimmelgate-catalogue": clash})
    result = team_project.runpytest_subprocess("-p", "no:cacheprovider", "-m", "staging_gate", "--wg-env", "env.yaml")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        [
            "ERROR: wimmelgate-catalogue.yaml: checks.SG-4: expected a new check id (it is already a check of the "
            "built-in catalogue (pytest_wimmelgate/catalogue/wimmelwelt.yaml))"
        ]
    )
    assert not (team_project.path / "releases").exists(), "exit 4 writes nothing"


def test_wimmelgate_catalogue_lists_the_team_checks(
    team_project: pytest.Pytester, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = team_project.path
    (folder / "pytest.ini").write_text("[pytest]\n")  # the rootdir, where wimmelgate-catalogue.yaml is found
    monkeypatch.chdir(folder)
    suites = folder / "checks"
    suites.mkdir()
    (folder / "test_team.py").rename(suites / "test_team.py")
    (folder / "conftest.py").rename(suites / "conftest.py")
    assert cli.main(["catalogue", "--suites", str(suites), "--json"]) == 1, "the built-in checks have no test here"
    data = json.loads(capsys.readouterr().out)
    rows = {row["id"]: row for row in data["checks"]}
    assert len(rows) == 51 and list(rows)[-3:] == ["TEAM-1", "TEAM-2", "TEAM-3"]
    assert rows["TEAM-2"]["severity"] == "minor" and rows["TEAM-2"]["catalogue"] == "wimmelgate-catalogue.yaml"
    assert rows["TEAM-1"]["runbook"] == ["docs/runbook.md#t1-team-checks"]
    assert rows["TEAM-3"]["destructive"] is True
    assert rows["TEAM-1"]["tests"] == ["checks/test_team.py::test_search_budget"]
    assert data["unknown"] == {} and "TEAM-1" not in data["missing"]
    assert cli.main(["catalogue", "--suites", str(suites)]) == 1
    text = capsys.readouterr().out
    assert any(line.startswith("TEAM-2 ") and "team_gate" in line and "§T.1" in line for line in text.splitlines())
    other = folder / "other.yaml"
    other.write_text("checks:\n  OPS-1: {title: t, gates: [prod_smoke]}\n")
    assert cli.main(["catalogue", "--suites", str(suites), "--catalogue", str(other), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in data["checks"]][-1] == "OPS-1" and set(data["unknown"]) == {"TEAM-1", "TEAM-2", "TEAM-3"}


def test_wimmelgate_report_rebuilds_the_decision_page_with_the_projects_checks(
    team_project: pytest.Pytester, allure_cli: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, _, run_dir = gate(team_project, "-m", "team_gate")
    page = run_dir / "report" / "index.html"
    monkeypatch.chdir(tmp_path)  # no catalogue file here: the page falls back to node ids
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0]]) == 0
    assert "search answers within budget" not in page.read_text()
    monkeypatch.chdir(team_project.path)  # wimmelgate-catalogue.yaml of the project
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0]]) == 0
    assert "search answers within budget" in page.read_text()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0], "--catalogue", "absent.yaml"]) == 4


def test_xdist_workers_read_the_same_project_catalogue(team_project: pytest.Pytester) -> None:
    """Each worker configures pytest itself: the team's checks carry the same gates, severity and outcome."""
    args = ("-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-report", "off", "-m", "team_gate")
    team_project.runpytest_subprocess(*args, "--wg-release-dir", "serial", "-n", "0")
    team_project.runpytest_subprocess(*args, "--wg-release-dir", "parallel", "-n", "2")

    def checks(root: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
        [path] = (team_project.path / root).glob("*/*/*/gate-summary.json")
        summary = json.loads(path.read_text())
        assert summary["verdict"] == "GO"
        return [(c["id"], c["outcome"], c["severity"], tuple(c["gates"])) for c in summary["checks"]]

    assert checks("parallel") == checks("serial")
    assert [c[0] for c in checks("serial")] == ["TEAM-1", "TEAM-2", "TEAM-3"]
