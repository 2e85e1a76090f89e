"""``wimmelgate init DIR`` from the installed package: a gate project whose staging gate runs GO against the
sandbox at once, its own check TEAM-1 included; a folder that is not empty is refused (exit 4) unless --force."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate import cli
from pytest_wimmelgate.config.environment import load
from tests.core.test_check_pattern import environment_problems, pattern_problems
from tests.packaging.conftest import Installed

FILES = [
    ".gitignore",
    "README.md",
    "checks/__init__.py",
    "checks/health_budget.py",
    "checks/test_health_budget.py",
    "environments/sandbox.yaml",
    "environments/staging.yaml",
    "pytest.ini",
    "wimmelgate-catalogue.yaml",
]


def _summary(project: Path, gate: str) -> dict[str, Any]:
    [found] = (project / "releases").glob(f"*/sandbox/{gate}-*/gate-summary.json")
    return dict(json.loads(found.read_text()))


@pytest.fixture(scope="module")
def project(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by the installed ``wimmelgate init``, outside this checkout."""
    folder = tmp_path_factory.mktemp("gate-project") / "payments-gates"
    done = installed.run(installed.wimmelgate, "init", folder, cwd=folder.parent, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pytest -m staging_gate" in done.stdout
    return folder


def test_init_writes_the_project_files(project: Path) -> None:
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()) == FILES
    assert (project / "README.md").read_text().startswith("# payments-gates: release gates")


def test_the_staging_gate_of_a_new_project_is_go_on_the_sandbox_team_check_included(
    installed: Installed, project: Path
) -> None:
    done = installed.run(installed.python, "-m", "pytest", "-m", "staging_gate", cwd=project, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "VERDICT: GO" in done.stdout
    summary = _summary(project, "staging_gate")
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    assert summary["verdict"] == "GO" and summary["complete"] is True
    assert {
        cid: outcomes[cid] for cid in ("SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7", "TEAM-1")
    } == dict.fromkeys(("SG-1", "SG-2", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7", "TEAM-1"), "passed")
    team = next(c for c in summary["checks"] if c["id"] == "TEAM-1")
    assert team["gates"] == ["staging_gate", "team_gate"] and team["nodeid"].startswith("checks/test_health_budget.py")
    sg1 = next(c for c in summary["checks"] if c["id"] == "SG-1")
    assert sg1["nodeid"].startswith("test_health.py::"), "SG-1 ran from the installed wimmelgate_suites"


def test_the_team_gate_runs_alone(installed: Installed, project: Path) -> None:
    done = installed.run(installed.python, "-m", "pytest", "-m", "team_gate", cwd=project, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = _summary(project, "team_gate")
    assert summary["gates"] == ["team_gate"] and [c["id"] for c in summary["checks"]] == ["TEAM-1"]


def test_wimmelgate_catalogue_of_the_project_lists_every_check_with_its_test(
    installed: Installed, project: Path
) -> None:
    done = installed.run(installed.wimmelgate, "catalogue", "--json", cwd=project, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = {row["id"]: row for row in data["checks"]}
    assert data["complete"] is True and len(rows) == 49
    assert rows["TEAM-1"]["tests"] == ["checks/test_health_budget.py::test_health_answers_within_the_budget"]
    assert rows["SG-1"]["tests"] == ["test_health.py::test_health_reports_the_expected_release"]


def test_the_example_check_is_written_as_the_shipped_suites_are(project: Path) -> None:
    path = project / "checks" / "test_health_budget.py"
    tree = ast.parse(path.read_text())
    tests = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    assert len(tests) == 1
    assert pattern_problems(tests[0], str(path)) == [] and environment_problems(tree, str(path)) == []


def test_the_staging_template_is_a_valid_environment_file(project: Path) -> None:
    env = load(str(project / "environments" / "staging.yaml"), rootdir=project)
    assert env.name == "staging" and env.has("backend") and env.has("smoke_account")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["init", str(tmp_path)]) == 4
    assert "expected an empty folder (it holds 1 entry); --force writes" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"], "nothing written"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    assert cli.main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine", "--force keeps other files"
    assert "wimmelgate_suites" in (tmp_path / "pytest.ini").read_text(), "--force replaces files of the same name"
    assert cli.main(["init", str(tmp_path / "notes.txt")]) == 4
