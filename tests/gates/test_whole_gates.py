"""A GO must be earned: partial runs are incomplete and NO-GO, destructive checks need intent.

Each test reproduces a finding of the issue "A GO must be earned" on the real sandbox: a
`-k`, `--lf` or marker-expression run of part of the staging gate said GO and go-live
accepted it; a plain `pytest` ran the destructive checks; Ctrl-C during SG-3 was recorded
as passed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.domain.release_evidence import check_staging_go
from tests.gates.conftest import ROOT, newest_summary, run_gate


def _not_run(summary: dict[str, Any]) -> dict[str, str]:
    return {entry["id"]: entry["why"] for entry in summary["not_run"] if not entry["excused"]}


def _staging_go_accepted(pytester: pytest.Pytester, summary: dict[str, Any]) -> bool:
    result = check_staging_go(pytester.path / "rel", summary["version"], summary["commit"], environment="sandbox")
    return result.ok


def test_a_keyword_run_of_one_check_is_incomplete_and_never_the_staging_go(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    result = run_gate(pytester, "-m", "staging_gate", "-k", "readiness_is_200")
    assert result.ret == 1, result.stdout.str()[-2000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "NO-GO" and summary["complete"] is False
    assert summary["selection"]["keyword"] == "readiness_is_200"
    missing = _not_run(summary)
    assert missing["SG-3"] == "deselected by -k"
    assert set(missing) == {"SG-1", "SG-3", "SG-4", "SG-5", "SG-6", "SG-7"}  # SG-8..10 are waived in the sandbox
    assert "incomplete: SG-3 deselected by -k" in summary["reasons"]
    result.stdout.fnmatch_lines(["*NO-GO*incomplete*SG-3 deselected by -k*", "VERDICT: NO-GO"])
    assert not _staging_go_accepted(pytester, summary)


def test_leaving_out_the_destructive_check_by_marker_is_incomplete(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    result = run_gate(pytester, "-m", "staging_gate and not destructive")
    assert result.ret == 1
    summary = newest_summary(pytester)
    assert summary["complete"] is False
    assert _not_run(summary) == {"SG-3": "deselected by -m"}
    assert not _staging_go_accepted(pytester, summary)


def test_a_last_failed_run_is_incomplete(pytester: pytest.Pytester, sandbox_env: dict[str, str]) -> None:
    cache = pytester.path / ".pytest_cache" / "v" / "cache"
    cache.mkdir(parents=True)
    (cache / "lastfailed").write_text(json.dumps({"suites/test_health.py::test_readiness_is_200": True}))
    result = pytester.runpytest_subprocess(
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "-o",
        f"cache_dir={pytester.path / '.pytest_cache'}",
        f"--wg-release-dir={pytester.path / 'rel'}",
        str(ROOT / "suites"),
        "-m",
        "staging_gate",
        "--lf",
        timeout=180,
    )
    assert result.ret == 1, result.stdout.str()[-2000:]
    summary = newest_summary(pytester)
    assert summary["selection"]["last_failed"] is True
    assert summary["complete"] is False
    assert {c["id"] for c in summary["checks"]} == {"SG-2"}
    assert _not_run(summary)["SG-3"] in ("deselected by --lf", "not collected (--lf)")
    assert not _staging_go_accepted(pytester, summary)


def test_stopping_at_the_first_failure_names_the_checks_that_never_ran(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    result = run_gate(pytester, "-m", "staging_gate", "-x", "-p", "no:randomly", "--wg-version", "9.9.9-not-deployed")
    assert result.ret == 1
    summary = newest_summary(pytester)
    sg1 = next(c for c in summary["checks"] if c["id"] == "SG-1")
    assert sg1["outcome"] == "failed"
    missing = _not_run(summary)
    assert missing, "the checks after the first failure are listed"
    assert set(missing.values()) == {"stopped early (-x/--maxfail)"}
    assert summary["selection"]["maxfail"] == 1


def test_the_complete_staging_gate_is_accepted_by_go_live(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    result = run_gate(pytester, "-m", "staging_gate")
    assert result.ret == 0, result.stdout.str()[-2000:]
    summary = newest_summary(pytester)
    assert summary["complete"] is True and _not_run(summary) == {}
    assert _staging_go_accepted(pytester, summary)


def test_a_run_that_names_no_gate_runs_no_destructive_check(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    result = run_gate(pytester, "-k", "readiness or failover or fall_back")
    summary = newest_summary(pytester)
    ran = {c["id"] for c in summary["checks"]}
    assert not ran & {"SG-3", "DR-3", "DR-4"}, result.stdout.str()[-2000:]
    assert "SG-2" in ran
    missing = _not_run(summary)
    for check_id in ("SG-3", "DR-3", "DR-4"):
        assert missing[check_id].startswith("not run: a destructive check runs only when -m selects its gate")
    assert summary["verdict"] == "NO-GO" and result.ret == 1


def test_a_check_interrupted_by_ctrl_c_is_interrupted_everywhere(
    pytester: pytest.Pytester, sandbox_env: dict[str, str]
) -> None:
    release = pytester.path / "rel"
    command = [
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
        "-m",
        "staging_gate",
        "-k",
        "blocked_database",
    ]
    process = subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not list(release.rglob("fault-intervals.jsonl")):  # SG-3 has blocked the database
        assert time.monotonic() < deadline and process.poll() is None, "SG-3 never started"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output[-2000:]
    summary = newest_summary(pytester)
    sg3 = next(c for c in summary["checks"] if c["id"] == "SG-3")
    assert sg3["outcome"] == "interrupted"
    assert summary["counts"]["interrupted"] == 1 and summary["counts"]["passed"] == 0
    assert summary["verdict"] == "NO-GO" and summary["exit_status"] == 2
    run_dir = Path(next(release.rglob("gate-summary.json")).parent)
    junit = (run_dir / "junit.xml").read_text()
    assert 'name="test_readiness_follows_a_blocked_database"' in junit and "interrupted" in junit
    statuses = [
        json.loads(p.read_text()).get("status")
        for p in (run_dir / "allure-results").glob("*-result.json")
        if "blocked_database" in p.read_text()
    ]
    assert statuses and "passed" not in statuses
    assert " passed" not in output.splitlines()[-1]
