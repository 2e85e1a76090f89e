"""Allure's extra files, which allure-pytest leaves to the user to write."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.errors import Category


def categories() -> list[dict[str, Any]]:
    """One Allure category per failure category; messages carry ``[category]``."""
    entries: list[dict[str, Any]] = []
    for category in Category:
        pattern = rf"\[{category.value}\]"
        if category is Category.PRODUCT:
            pattern = rf"(?:{pattern}|AssertionError)"
        entries.append(
            {
                "name": category.value[0].upper() + category.value[1:],
                "messageRegex": rf"(?s).*{pattern}.*",
                "matchedStatuses": ["failed", "broken"],
            }
        )
    entries.append({"name": "Not run (skipped)", "matchedStatuses": ["skipped"]})
    return entries


def executor(environ: Mapping[str, str], *, run_dir: str) -> dict[str, Any]:
    """Who executed the run, from GitHub Actions, GitLab CI or a generic CI."""
    if environ.get("GITHUB_ACTIONS") == "true":
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repo = environ.get("GITHUB_REPOSITORY", "")
        run = environ.get("GITHUB_RUN_ID", "")
        return {
            "name": "GitHub Actions",
            "type": "github",
            "url": f"{server}/{repo}",
            "buildOrder": environ.get("GITHUB_RUN_NUMBER", ""),
            "buildName": f"{environ.get('GITHUB_WORKFLOW', 'workflow')} #{environ.get('GITHUB_RUN_NUMBER', '')}",
            "buildUrl": f"{server}/{repo}/actions/runs/{run}",
            "reportName": "Wimmelgate release gate",
        }
    if environ.get("GITLAB_CI") == "true":
        return {
            "name": "GitLab CI",
            "type": "gitlab",
            "url": environ.get("CI_PROJECT_URL", ""),
            "buildOrder": environ.get("CI_PIPELINE_IID", ""),
            "buildName": f"{environ.get('CI_JOB_NAME', 'job')} #{environ.get('CI_JOB_ID', '')}",
            "buildUrl": environ.get("CI_JOB_URL", ""),
            "reportName": "Wimmelgate release gate",
        }
    if environ.get("CI"):
        return {
            "name": environ.get("CI_NAME", "CI"),
            "type": "generic",
            "buildName": environ.get("BUILD_ID", environ.get("BUILD_NUMBER", "")),
            "buildOrder": environ.get("BUILD_NUMBER") or _local_build_order(Path(run_dir)),
            "buildUrl": environ.get("BUILD_URL", ""),
            "reportName": "Wimmelgate release gate",
        }
    return {
        "name": "local run",
        "type": "local",
        "buildName": Path(run_dir).name,
        "buildOrder": _local_build_order(Path(run_dir)),
        "reportName": "Wimmelgate release gate",
    }


def _local_build_order(run_dir: Path) -> int:
    """The run's number among this environment's run folders (all versions): the trend's x-axis."""
    try:
        root, environment = run_dir.parents[2], run_dir.parent.name
    except IndexError:
        return 1
    mine = _stamp(run_dir.name)
    return sum(1 for p in root.glob(f"*/{environment}/*") if p.is_dir() and _stamp(p.name) <= mine) or 1


def _stamp(name: str) -> tuple[str, int]:
    """``(yyyymmddThhmmssZ, clash number)`` of a run folder name; sorts runs in time."""
    import re

    found = re.search(r"(\d{8}T\d{6}Z)(?:-(\d+))?$", name)
    return (found.group(1), int(found.group(2) or 1)) if found else ("", 0)


def environment_properties(values: Mapping[str, str]) -> str:
    """Java properties text; keys and values escaped, one line each."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")

    return "".join(f"{escape(k.replace(' ', '_'))}={escape(v)}\n" for k, v in values.items())


def write_all(
    results_dir: Path, *, properties: Mapping[str, str], environ: Mapping[str, str], secrets: SecretSet
) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "environment.properties").write_text(  # values redacted before escaping changes their form
        secrets.redact(environment_properties({k: secrets.redact(v) for k, v in properties.items()})), encoding="utf-8"
    )
    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2), encoding="utf-8")
    (results_dir / "executor.json").write_text(
        json.dumps(secrets.redact_tree(executor(environ, run_dir=str(results_dir.parent))), indent=2), encoding="utf-8"
    )
