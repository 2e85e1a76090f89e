"""The CI examples in docs/ci: real options, the gate's exit code kept, artifacts always uploaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_wimmelgate.core.options import SETTINGS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ci"
OPTION = re.compile(r"--wg-[a-z][a-z-]*")
MASKING = re.compile(r"\|\|\s*(true|:|exit 0)|;\s*true\b|set \+e")


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


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_every_wg_option_exists_and_the_gate_command_is_complete(name: str) -> None:
    data = load(name)
    used = {m for text in strings(data) for m in OPTION.findall(text)}
    known = {setting.option for setting in SETTINGS}
    assert used <= known, f"{name} uses unknown options: {sorted(used - known)}"
    [command] = gate_commands(data)
    for option in ("--wg-env=staging", "--wg-version", "--wg-commit", "--wg-release-dir=releases"):
        assert option in command
    assert not MASKING.search(command), "the gate's exit code must fail the job on NO-GO"


def test_github_uploads_the_release_folder_always_and_fails_on_no_go() -> None:
    data = load("github-actions.yml")
    [job] = data["jobs"].values()
    steps = job["steps"]
    gate = next(i for i, step in enumerate(steps) if gate_commands(step))
    assert not steps[gate].get("continue-on-error"), "NO-GO must fail the job"
    assert "secrets." in str(steps[gate].get("env", {})), "secrets come from CI secrets"
    uploads = [s for s in steps[gate + 1 :] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert uploads, "an upload-artifact step after the gate"
    assert re.fullmatch(r"(\$\{\{\s*)?always\(\)(\s*\}\})?", str(uploads[0].get("if", "")).strip())
    assert str(uploads[0]["with"]["path"]).rstrip("/") == "releases"


def test_gitlab_keeps_the_release_folder_always_and_fails_on_no_go() -> None:
    data = load("gitlab-ci.yml")
    jobs = {name: job for name, job in data.items() if isinstance(job, dict) and "script" in job}
    [job] = [job for job in jobs.values() if gate_commands(job["script"])]
    assert not job.get("allow_failure"), "NO-GO must fail the job"
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert "releases/" in artifacts["paths"] or "releases" in artifacts["paths"]
    assert "WIMMELGATE_SMOKE_PASSWORD" in (DOCS / "gitlab-ci.yml").read_text(), "secrets named as CI variables"
