"""The run folder: layout, Allure extras, never overwritten, no secret anywhere."""

from __future__ import annotations

import json

import pytest

from tests.core.conftest import gate_args, run_summary

SECRET = "s3cr3t-Value-9f8e7d6c"

LEAKY = """
import os, logging, allure, pytest
from pytest_wimmelgate.errors import CheckFailed, Category

@pytest.mark.check("SG-4")
def test_login(evidence):
    token = os.environ["WIMMELWELT_API_TOKEN"]
    print("printed", token)
    logging.getLogger("leak").warning("logged %s", token)
    allure.attach("attached " + token, name="raw")
    allure.dynamic.parameter("token", token, mode=allure.parameter_mode.MASKED)
    evidence.json("answer", {"token": token})
    with allure.step(f"login with {token}"):
        pass
    raise CheckFailed(Category.PRODUCT, f"login answered 401 for token {token}", {"token": token})

@pytest.mark.check("SG-5")
def test_messages():
    token = os.environ["WIMMELWELT_API_TOKEN"]
    assert token == "expected", f"token {token} was wrong"
"""


def test_run_folder_holds_summary_junit_and_allure_results(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
    """)
    result = gate_dir.runpytest(
        *gate_args("-m", "staging_gate", "--wg-version", "1.4.2", "--wg-commit", "3f9c2e1", "--wg-tester", "qa-anna")
    )
    assert result.ret == 0
    runs = list((gate_dir.path / "rel" / "1.4.2" / "testenv").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("staging_gate-")
    run = runs[0]
    assert (run / "gate-summary.json").is_file() and (run / "junit.xml").is_file()
    results = run / "allure-results"
    props = (results / "environment.properties").read_text()
    assert "environment=testenv" in props and "version=1.4.2" in props and "commit=3f9c2e1" in props
    categories = json.loads((results / "categories.json").read_text())
    assert {"Infrastructure unreachable", "SLO violated", "Configuration missing", "Product defect", "Advisory"} <= {
        c["name"] for c in categories
    }
    assert json.loads((results / "executor.json").read_text())["name"]
    [test_result] = [
        r for r in (json.loads(p.read_text()) for p in results.glob("*-result.json")) if r["name"].startswith("SG-1 · ")
    ]
    labels = {(x["name"], x["value"]) for x in test_result["labels"]}
    assert {
        ("epic", "staging_gate"),
        ("feature", "health"),
        ("severity", "critical"),
        ("check", "SG-1"),
    } <= labels
    assert ("epic", "prod_smoke") not in labels  # only the gates that ran appear as gates
    assert any("Runbook" in link["name"] and "#22-staging-gate-t-12h" in link["url"] for link in test_result["links"])
    summary = run_summary(gate_dir)
    assert (summary["tester"], summary["version"], summary["commit"]) == ("qa-anna", "1.4.2", "3f9c2e1")
    assert summary["started_at"].endswith("Z") and summary["finished_at"] >= summary["started_at"]


def test_second_run_does_not_overwrite_the_first(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
    """)
    for _ in range(2):
        assert gate_dir.runpytest(*gate_args("-m", "staging_gate", "--wg-version", "1.0")).ret == 0
    runs = sorted((gate_dir.path / "rel" / "1.0" / "testenv").iterdir())
    assert len(runs) == 2
    assert all((run / "gate-summary.json").is_file() for run in runs)


def test_secret_never_reaches_terminal_or_any_file(gate_dir: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIMMELWELT_API_TOKEN", SECRET)
    gate_dir.makepyfile(LEAKY)
    result = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate", "-rA", "-l", "--log-level", "INFO"))
    assert result.ret == 1
    output = result.stdout.str() + result.stderr.str()
    assert "***" in output
    assert SECRET not in output
    files = [p for p in (gate_dir.path / "rel").rglob("*") if p.is_file()]
    assert any(p.name.endswith("-attachment.json") for p in files)
    leaking = [str(p) for p in files if SECRET.encode() in p.read_bytes()]
    assert leaking == []
    summary = run_summary(gate_dir)
    assert "***" in summary["checks"][0]["reason"]


def test_release_dir_outside_the_project_as_two_tokens_is_refused(
    gate_dir: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("artifacts")
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
    """)
    args = ("-p", "no:cacheprovider", "--wg-env", "env.yaml", "-m", "staging_gate")
    refused = gate_dir.runpytest(*args, "--wg-release-dir", str(outside))
    assert refused.ret == 4
    refused.stderr.fnmatch_lines(
        [f"ERROR: --wg-release-dir {outside}: pytest took this value for a test path*write --wg-release-dir={outside}"]
    )
    accepted = gate_dir.runpytest(*args, f"--wg-release-dir={outside}")
    assert accepted.ret == 0
    assert list(outside.rglob("gate-summary.json"))


@pytest.mark.parametrize("ci", ["", "true"], ids=["local", "generic-ci"])
def test_runs_without_a_ci_build_number_are_numbered_for_the_trend(
    gate_dir: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "BUILD_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI", ci)
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
    """)
    orders = []
    for gate in ("staging_gate", "prod_smoke", "staging_gate"):
        assert gate_dir.runpytest(*gate_args("-m", gate, "--wg-version", "2.0")).ret == 0
        newest = max((gate_dir.path / "rel" / "2.0" / "testenv").iterdir(), key=lambda p: p.stat().st_mtime)
        orders.append(json.loads((newest / "allure-results" / "executor.json").read_text())["buildOrder"])
    assert orders == [1, 2, 3]


def test_the_release_folder_is_never_collected(gate_dir: pytest.Pytester) -> None:
    """Earlier runs under the collected folder are not walked: a broken test file planted there is not even read."""
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
    """)
    planted = gate_dir.path / "rel" / "0.9.0" / "testenv" / "staging_gate-20260101T000000Z"
    planted.mkdir(parents=True)
    (planted / "test_planted.py").write_text("this is not python (\n")
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate", "--wg-version", "1.4.2"))
    assert result.ret == 0, result.stdout.str()[-2000:]
    assert run_summary(gate_dir)["counts"]["passed"] == 1
    assert "test_planted" not in result.stdout.str()
