"""Fixtures of the report tests: inner gate runs (pytester, or the real suites on the sandbox) and the real
Allure CLIs (the project's pinned Allure 3, and Allure 2 where ``.ci/run`` installed it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.allure_cli import AllureCli, identify

ROOT = Path(__file__).resolve().parents[2]
ALLURE3 = ROOT / "node_modules" / ".bin" / "allure"
ALLURE2 = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "allure"
OUTER_SETTINGS = ("PYTEST_ADDOPTS", "WIMMELGATE_", "SANDBOX_", "GITHUB_", "GITLAB_", "CI")

GATE_TESTS = """
import pytest

@pytest.mark.check("SG-1")
def test_health_answers_ok():
    pass

@pytest.mark.check("SG-2")
def test_readiness_answers_200():
    assert False, "readiness answered 503 (database unreachable)"
"""


@pytest.fixture
def gate_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with ``env.yaml`` (name testenv) and a passing SG-1, failing SG-2."""
    pytester.makefile(".yaml", env="name: testenv\nprotected: false\n")
    pytester.makepyfile(test_gate=GATE_TESTS)
    return pytester


def _cli(path: Path, major: int, install: str) -> list[str]:
    if not path.is_file():
        pytest.skip(f"no Allure {major} at {path.relative_to(ROOT)}: run `{install}`")
    found = identify([str(path)])
    if isinstance(found, str):
        pytest.skip(found)
    assert found.major == major, found
    return [str(path)]


@pytest.fixture(scope="session")
def allure_cli() -> list[str]:
    """The project's pinned Allure 3 (``npm install`` in the project root)."""
    return _cli(ALLURE3, 3, "npm install")


@pytest.fixture(scope="session")
def allure2_cli() -> list[str]:
    """Allure 2 (npm ``allure-commandline``, needs Java), as ``.ci/run`` installs it into ``.ci/node``."""
    return _cli(ALLURE2, 2, "npm install --prefix .ci/node allure-commandline@2.46.1")


def allure_version(cli: list[str]) -> AllureCli:
    found = identify(cli)
    assert not isinstance(found, str), found
    return found


def run_gate(pytester: pytest.Pytester, version: str = "1.0.0", *extra: str) -> Path:
    """Run the staging gate of `gate_dir` in-process; return its new run folder."""
    release = pytester.path / "rel"
    before = set(release.glob("*/*/*")) if release.exists() else set()
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--wg-env",
        "env.yaml",
        "--wg-release-dir",
        "rel",
        "-m",
        "staging_gate",
        "--wg-version",
        version,
        "--wg-report",
        "off",
        *extra,
    )
    assert result.ret == 1, "SG-2 fails on purpose: the inner gate must say NO-GO"
    [run_dir] = set(release.glob("*/*/*")) - before
    return run_dir


def clean_environ(**extra: str) -> dict[str, str]:
    """The outer environment without settings that would steer an inner gate run."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(OUTER_SETTINGS)}
    environ.update(extra)
    return environ


@dataclass(frozen=True)
class SuiteRun:
    """One run of the project's real suites in a subprocess, and the run folder it wrote."""

    returncode: int
    output: str
    run_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "gate-summary.json").read_text(encoding="utf-8")))

    def results(self) -> list[dict[str, Any]]:
        return [
            json.loads(p.read_text("utf-8")) for p in sorted((self.run_dir / "allure-results").glob("*-result.json"))
        ]


def run_suites(
    workdir: Path,
    *args: str,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> SuiteRun:
    """``pytest suites/ …`` of this checkout in a subprocess (its own sandbox), release folder ``workdir/rel``;
    run from `cwd` (default `workdir`; the project root where an environment's relative paths must resolve)."""
    release = workdir / "rel"
    before = set(release.glob("*/*/*")) if release.exists() else set()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pyproject.toml"),
            f"--wg-release-dir={release}",
            str(ROOT / "suites"),
            *args,
        ],
        cwd=cwd or workdir,
        env=dict(environ if environ is not None else clean_environ()),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    new = sorted(set(release.glob("*/*/*")) - before)
    assert len(new) == 1, f"expected one new run folder, got {new}\n{output[-4000:]}"
    return SuiteRun(done.returncode, output, new[0])


@pytest.fixture(scope="session")
def sandbox_go_run(tmp_path_factory: pytest.TempPathFactory, allure_cli: list[str]) -> SuiteRun:
    """The Quickstart's gate (``-m staging_gate``) on a healthy sandbox, with the report made by Allure 3."""
    workdir = tmp_path_factory.mktemp("go-run")
    run = run_suites(
        workdir,
        "-m",
        "staging_gate",
        "--wg-version=0.0.0-sandbox",
        "--wg-commit=sandbox",
        environ=clean_environ(WIMMELGATE_ALLURE=allure_cli[0], WIMMELGATE_SANDBOX_PROMETHEUS="off"),
    )
    assert run.returncode == 0, run.output[-4000:]
    return run


@pytest.fixture(scope="session")
def sandbox_no_go_run(tmp_path_factory: pytest.TempPathFactory, allure_cli: list[str]) -> SuiteRun:
    """The staging gate on a sandbox whose readiness ignores the database: SG-3 fails, NO-GO."""
    workdir = tmp_path_factory.mktemp("no-go-run")
    run = run_suites(
        workdir,
        "-m",
        "staging_gate",
        environ=clean_environ(
            WIMMELGATE_ALLURE=allure_cli[0],
            WIMMELGATE_SANDBOX_FAULTS="readiness_ignores_db=1",
            WIMMELGATE_SANDBOX_PROMETHEUS="off",
        ),
    )
    assert run.returncode == 1, run.output[-4000:]
    return run


def attach_png(path: Path, name: str) -> None:
    """Attach a screenshot to this test's own Allure result (when the outer run writes one)."""
    try:
        import allure
    except ImportError:
        return
    allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.PNG)
