"""The README's first Quickstart command as a new user runs it in a fresh clone: it makes the report; without
Node the gate still runs and says in one line what is missing and the command that adds it.

The command's first two steps (``python3 -m venv .venv`` and ``pip install -e '.[sandbox]'``) are this test
run's own virtualenv; the rest of the command runs as written, in a copy of the project."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.report.conftest import ROOT, clean_environ

SETUP = "python3 -m venv .venv && .venv/bin/pip install -q -c .ci/constraints.txt -e '.[sandbox]' && "
HIDDEN_FROM_A_MACHINE_WITHOUT_NODE = {"node", "nodejs", "npm", "npx", "corepack"}


def quickstart() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("## Quickstart") :].split("```bash\n", 1)[1]
    return block.splitlines()[0]


def fresh_clone(workspace: Path) -> Path:
    workspace.mkdir(parents=True)
    for name in ("pyproject.toml", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, workspace / name)
    for folder in ("suites", "environments", "docs"):
        shutil.copytree(ROOT / folder, workspace / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return workspace


def run_rest(workspace: Path, path: str) -> subprocess.CompletedProcess[str]:
    """The Quickstart command after its virtualenv setup, `.venv/bin/` being this test run's."""
    rest = quickstart()[len(SETUP) :].replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    environ = clean_environ(PATH=path, WIMMELGATE_SANDBOX_PROMETHEUS="off")
    return subprocess.run(
        ["bash", "-c", rest], cwd=workspace, env=environ, capture_output=True, text=True, timeout=600, check=False
    )


def run_folder(workspace: Path) -> Path:
    [summary] = (workspace / "releases").glob("*/*/*/gate-summary.json")
    return summary.parent


def path_without_node(tmp_path: Path) -> str:
    """This machine's PATH as one folder of links, minus Node and npm."""
    folder = tmp_path / "bin-without-node"
    folder.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = folder / entry.name
            if entry.name not in HIDDEN_FROM_A_MACHINE_WITHOUT_NODE and not target.exists():
                target.symlink_to(entry.path)
    return str(folder)


def test_the_quickstart_command_sets_up_installs_the_pinned_allure_and_runs_the_gate() -> None:
    command = quickstart()
    assert command.startswith(SETUP)
    assert "{ npm install --no-audit --no-fund --silent || true; }" in command, "no Node must not stop the gate"
    assert command.endswith(" && .venv/bin/pytest -m staging_gate")


def test_on_a_machine_with_python_and_node_the_quickstart_writes_the_report(tmp_path: Path) -> None:
    workspace = fresh_clone(tmp_path / "clone")
    done = run_rest(workspace, os.environ.get("PATH", ""))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert (workspace / "node_modules" / ".bin" / "allure").exists(), "npm install put the pinned Allure here"
    folder = run_folder(workspace)
    assert (folder / "report" / "index.html").is_file() and (folder / "report" / "allure.html").is_file()
    assert "VERDICT: GO" in done.stdout
    [line] = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    assert line.endswith("(Allure 3.18.0)") or "(Allure 3.18.0);" in line, line


def test_without_node_the_run_completes_and_one_line_says_what_is_missing(tmp_path: Path) -> None:
    workspace = fresh_clone(tmp_path / "clone")
    path = path_without_node(tmp_path)
    assert shutil.which("node", path=path) is None and shutil.which("npm", path=path) is None
    done = run_rest(workspace, path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "VERDICT: GO" in done.stdout
    folder = run_folder(workspace)
    assert (folder / "report" / "index.html").is_file(), "the decision page needs no Node"
    assert not (folder / "report" / "allure.html").exists()
    missing = [line for line in done.stdout.splitlines() if "Node" in line]
    assert len(missing) == 1, missing
    assert re.fullmatch(
        r"report: .*/report/index\.html \(release decision\); full Allure report not generated: no Node\.js found: "
        r"install Node >= 20, then run `npm install` in .*/clone \(pins allure@3\.18\.0\)",
        missing[0],
    ), missing[0]
