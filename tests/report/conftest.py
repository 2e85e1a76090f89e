"""Fixtures of the report tests: inner gate runs with pytester and the real Allure CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.artifacts.report import find_allure_cli

ROOT = Path(__file__).resolve().parents[2]

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


@pytest.fixture
def allure_cli() -> list[str]:
    """The real Allure 2 CLI (``.ci/node`` of this checkout, PATH or WIMMELGATE_ALLURE)."""
    cli = find_allure_cli(root=ROOT)
    if cli is None:
        pytest.skip(
            "no Allure CLI (WIMMELGATE_ALLURE, PATH or .ci/node): "
            "run `npm install --no-save --prefix .ci/node allure-commandline`"
        )
    return cli


def run_gate(pytester: pytest.Pytester, version: str = "1.0.0", *extra: str) -> Path:
    """Run the staging gate in-process; return its new run folder."""
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
