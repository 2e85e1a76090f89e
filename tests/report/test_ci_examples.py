"""The CI examples in docs/ci gate a backend's release: the deployment's version and commit, history restored so
the trend grows, the run folder uploaded, the gate's exit code failing the job. The GitHub example's shell
steps are executed on the sandbox by a small local runner."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_wimmelgate.core.options import SETTINGS
from tests.report.conftest import ROOT, clean_environ

DOCS = ROOT / "docs" / "ci"
OPTION = re.compile(r"--wg-[a-z][a-z-]*")
MASKING = re.compile(r"\|\|\s*(true|:|exit 0)|;\s*true\b|set \+e")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
NAME = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)*")
THIS_MACHINE = ("actions/checkout@", "actions/setup-python@", "actions/setup-node@")
GATE_REPOSITORY_SHA = "0badc0ffee0badc0ffee0badc0ffee0badc0ffee"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def gate_commands(node: Any) -> list[str]:
    return [text for text in strings(node) if re.search(r"\bpytest\b.*-m staging_gate", text, re.S)]


# -- the examples as text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_every_wg_option_exists_and_the_gate_command_gates_the_deployment(name: str) -> None:
    data = load(name)
    used = {m for text in strings(data) for m in OPTION.findall(text)}
    known = {setting.option for setting in SETTINGS}
    assert used <= known, f"{name} uses unknown options: {sorted(used - known)}"
    [command] = gate_commands(data)
    for option in (
        '--wg-env="$GATE_ENVIRONMENT"',
        '--wg-version="${RELEASE_VERSION:?',
        '--wg-commit="${RELEASE_COMMIT:?',
    ):
        assert option in command
    assert "--wg-release-dir=releases" in command and "--wg-report=required" in command
    for gate_repository_own in ("GITHUB_SHA", "github.sha", "github.ref_name", "CI_COMMIT_SHA", "CI_COMMIT_TAG"):
        assert gate_repository_own not in command, "version and commit come from the deployment, not this repository"
    assert not MASKING.search(command), "the gate's exit code must fail the job on NO-GO"


def test_github_takes_version_and_commit_from_the_deploy_event_or_the_inputs() -> None:
    data = load("github-actions.yml")
    triggers = data[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["repository_dispatch"]["types"] == ["staging-deployed"]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"version", "commit"}
    assert "push" not in triggers, "a push to the gate repository is no deployment"
    [job] = data["jobs"].values()
    assert job["env"]["RELEASE_VERSION"] == "${{ inputs.version || github.event.client_payload.version }}"
    assert job["env"]["RELEASE_COMMIT"] == "${{ inputs.commit || github.event.client_payload.commit }}"
    for step in job["steps"]:
        assert "${{" not in str(step.get("run", "")), f"an expression pasted into a script: {step.get('name')}"


def test_github_installs_the_allure_the_project_pins() -> None:
    [job] = load("github-actions.yml")["jobs"].values()
    install = next(s for s in job["steps"] if str(s.get("name", "")).startswith("Install"))
    assert "npm ci" in install["run"], "npm ci installs exactly package-lock.json's allure"
    assert "allure-commandline" not in install["run"] and "setup-java" not in str(job["steps"])


def test_gitlab_gates_the_triggering_deployment_keeps_history_and_the_run_folder() -> None:
    data = load("gitlab-ci.yml")
    jobs = {name: job for name, job in data.items() if isinstance(job, dict) and "script" in job}
    [job] = [job for job in jobs.values() if gate_commands(job["script"])]
    assert not job.get("allow_failure"), "NO-GO must fail the job"
    assert any('$CI_PIPELINE_SOURCE == "pipeline"' in rule["if"] for rule in job["rules"]), "a downstream trigger"
    [history] = [c for c in job["cache"] if any("history" in p for p in c["paths"])]
    assert history["when"] == "always" and history["paths"] == ["releases/*/staging/*/history/"]
    assert job["artifacts"]["when"] == "always" and "releases/" in job["artifacts"]["paths"]
    assert "npm ci" in " ".join(job["before_script"]) and job["image"].startswith("node:20")
    text = (DOCS / "gitlab-ci.yml").read_text()
    assert "WIMMELGATE_SMOKE_PASSWORD" in text and "RELEASE_COMMIT: $CI_COMMIT_SHA" in text


# -- a local runner for the GitHub example's shell steps -----------------------------------------------------------


@dataclass
class JobRun:
    """What happened to each step of one job run."""

    outcomes: dict[str, str] = field(default_factory=dict)
    uploads: list[Path] = field(default_factory=list)
    output: str = ""

    @property
    def failed(self) -> bool:
        return "failure" in self.outcomes.values()


def evaluate(expression: str, context: Mapping[str, Any]) -> str:
    """The few GitHub expressions the example uses: names, ``||``, ``&&``, ``always()``, ``success()``."""
    value = ""
    for alternative in expression.split("||"):
        value = ""
        for atom in (a.strip() for a in alternative.split("&&")):
            value = _atom(atom, context)
            if not value:
                break
        if value:
            return value
    return value


def _atom(atom: str, context: Mapping[str, Any]) -> str:
    if atom == "always()":
        return "true"
    if atom == "success()":
        return "" if context["job_failed"] else "true"
    assert NAME.fullmatch(atom), f"an expression this runner does not know: {atom!r}"
    node: Any = context
    for part in atom.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return "" if node is None else str(node)


def substitute(text: str, context: Mapping[str, Any]) -> str:
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), context), text)


def condition(step: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    written = str(step.get("if", "success()"))
    match = EXPRESSION.fullmatch(written.strip())
    return bool(evaluate(match.group(1) if match else written, context))


class LocalRunner:
    """Runs the job like GitHub's runner runs its shell steps: ``bash --noprofile --norc -eo pipefail``, workflow,
    job and step env evaluated, ``$GITHUB_OUTPUT`` read back, a failed step skipping later steps unless their
    ``if`` says ``always()``. ``actions/cache/restore|save`` become a folder, ``actions/upload-artifact`` is
    recorded, checkout/setup-* are this machine (the workspace is prepared by the test). The install step is not
    run: it would reinstall the shared virtualenv; `test_github_installs_the_allure_the_project_pins` checks it."""

    def __init__(self, workspace: Path, cache: Path, environ: Mapping[str, str], context: dict[str, Any]) -> None:
        self.workspace, self.cache, self.environ, self.context = workspace, cache, dict(environ), context

    def run(self, job: Mapping[str, Any], env_overrides: Mapping[str, str]) -> JobRun:
        import subprocess

        record = JobRun()
        self.context.update(job_failed=False, steps={})
        job_env = {k: substitute(str(v), self.context) for k, v in job.get("env", {}).items()}
        job_env.update(env_overrides)
        self.context["env"] = job_env
        for index, step in enumerate(job["steps"]):
            name = str(step.get("name") or step.get("uses"))
            uses = str(step.get("uses", ""))
            if not condition(step, self.context):
                record.outcomes[name] = "skipped"
                continue
            if uses.startswith(THIS_MACHINE) or name.startswith("Install"):
                record.outcomes[name] = "this machine"
                continue
            with_ = {k: substitute(str(v), self.context) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/cache/restore@"):
                self._restore(with_)
            elif uses.startswith("actions/cache/save@"):
                self._save(with_)
            elif uses.startswith("actions/upload-artifact@"):
                path = self.workspace / with_["path"]
                assert path.is_dir(), f"nothing to upload at {path}"
                record.uploads.append(path)
            else:
                assert "run" in step, f"step {name}: neither a shell step nor an emulated action"
                outputs = self.workspace.parent / f"github-output-{index}"
                outputs.write_text("")
                env = {**self.environ, **job_env, "GITHUB_OUTPUT": str(outputs)}
                env.update({k: substitute(str(v), self.context) for k, v in step.get("env", {}).items()})
                done = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                    cwd=self.workspace,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                record.output += f"--- {name} (exit {done.returncode})\n{done.stdout}{done.stderr}"
                if done.returncode != 0:
                    record.outcomes[name] = "failure"
                    self.context["job_failed"] = True
                    continue
                if "id" in step:
                    pairs = (line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
                    self.context["steps"][step["id"]] = {"outputs": dict(pairs)}
            record.outcomes[name] = "success"
        return record

    def _restore(self, with_: Mapping[str, str]) -> None:
        keys = [with_["key"], *(k.strip() for k in with_.get("restore-keys", "").splitlines() if k.strip())]
        saved = sorted(self.cache.iterdir(), key=lambda p: p.stat().st_mtime) if self.cache.is_dir() else []
        for key in keys:
            hits = [entry for entry in saved if entry.name == key or entry.name.startswith(key)]
            if hits:
                shutil.copytree(hits[-1], self.workspace, dirs_exist_ok=True)
                return

    def _save(self, with_: Mapping[str, str]) -> None:
        target = self.cache / with_["key"]
        for found in self.workspace.glob(with_["path"]):
            shutil.copytree(found, target / found.relative_to(self.workspace))


def checkout(workspace: Path) -> Path:
    """What ``actions/checkout`` and ``npm ci`` leave: this project's gates and the pinned Allure."""
    workspace.mkdir(parents=True)
    for name in ("pyproject.toml", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, workspace / name)
    for folder in ("suites", "environments", "docs"):
        shutil.copytree(ROOT / folder, workspace / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (workspace / "node_modules").symlink_to(ROOT / "node_modules")
    return workspace


def github_run(tmp_path: Path, number: int, event: dict[str, Any], **machine: str) -> tuple[JobRun, Path]:
    [job] = load("github-actions.yml")["jobs"].values()
    workspace = checkout(tmp_path / f"run-{number}" / "workspace")
    environ = clean_environ(
        PATH=f"{Path(sys.executable).parent}:{clean_environ().get('PATH', '')}",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_ACTOR="release-bot",
        GITHUB_SHA=GATE_REPOSITORY_SHA,
        GITHUB_REF_TYPE="tag",
        GITHUB_REF_NAME="v9.9.9",
        GITHUB_REPOSITORY="ops/wimmelwelt-gates",
        GITHUB_RUN_ID=str(1000 + number),
        GITHUB_RUN_NUMBER=str(number),
        WIMMELGATE_SANDBOX_PROMETHEUS="off",
        **machine,
    )
    context = {
        **event,
        "github": {
            **event.get("github", {}),
            "run_id": str(1000 + number),
            "run_attempt": "1",
            "sha": GATE_REPOSITORY_SHA,
        },
        "vars": {},
        "secrets": {},
    }
    runner = LocalRunner(workspace, tmp_path / "actions-cache", environ, context)
    return runner.run(job, {"GATE_ENVIRONMENT": "sandbox"}), workspace


def test_the_github_example_gates_the_deployment_grows_the_trend_uploads_and_fails_on_no_go(
    tmp_path: Path, allure_cli: list[str]
) -> None:
    dispatch = {"github": {"event": {"client_payload": {"version": "0.0.0-sandbox", "commit": "sandbox"}}}}
    first, _ = github_run(tmp_path, 1, dispatch)
    assert not first.failed, first.output[-4000:]
    [folder] = first.uploads
    summary = json.loads((folder / "gate-summary.json").read_text())
    assert summary["verdict"] == "GO"
    assert (summary["version"], summary["commit"]) == ("0.0.0-sandbox", "sandbox"), "the deployment's, not v9.9.9"
    for name in ("report/index.html", "report/allure.html", "release-note.md", "MANIFEST.sha256"):
        assert (folder / name).is_file(), name
    assert len((folder / "history" / "history.jsonl").read_text().splitlines()) == 1

    manual = {"inputs": {"version": "0.0.0-sandbox", "commit": "sandbox"}}
    second, workspace = github_run(tmp_path, 2, manual, WIMMELGATE_SANDBOX_FAULTS="readiness_ignores_db=1")
    gate = next(name for name in second.outcomes if name.startswith("Staging gate"))
    assert second.outcomes[gate] == "failure", "NO-GO (exit 1) fails the job"
    assert "exit 1" in second.output
    assert [o for n, o in second.outcomes.items() if n.startswith(("Locate", "Save", "Upload"))] == ["success"] * 3
    [folder] = second.uploads
    summary = json.loads((folder / "gate-summary.json").read_text())
    assert summary["verdict"] == "NO-GO" and [r.split(":")[0] for r in summary["reasons"]] == ["SG-3"]
    trend = [json.loads(line) for line in (folder / "history" / "history.jsonl").read_text().splitlines()]
    assert len(trend) == 2, "the first run's history came back from the cache: the trend grows"
    assert [p.name for p in workspace.glob("releases/*/*/*/history")] == ["history"], "only this run's is cached"
