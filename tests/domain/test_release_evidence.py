"""GL-5: the newest staging gate run for the version is GO for the same commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.domain.release_evidence import check_staging_go, commits_match
from pytest_wimmelgate.errors import Category

COMMIT = "3f9c2e1a7b5d4c3e2f1a0b9c8d7e6f5a4b3c2d1e"


def write_run(
    root: Path,
    stamp: str,
    *,
    verdict: str = "GO",
    commit: str = COMMIT[:7],
    gates: tuple[str, ...] = ("staging_gate",),
    env: str = "staging",
    version: str = "1.4.2",
    **extra: Any,
) -> Path:
    run = root / version / env / f"{'+'.join(gates)}-{stamp}"
    run.mkdir(parents=True)
    summary = {
        "schema": "wimmelgate/gate-summary/v1",
        "gates": list(gates),
        "environment": env,
        "version": version,
        "commit": commit,
        "tester": "release-bot",
        "verdict": verdict,
        "complete": True,
        "started_at": "2026-11-28T19:02:11Z",
        "finished_at": "2026-11-28T19:02:40Z",
        "counts": {"passed": 14, "failed": 0, "skipped": 1, "warned": 0},
        "checks": [],
        "reasons": [],
        **extra,
    }
    path = run / "gate-summary.json"
    path.write_text(json.dumps(summary))
    return path


def test_newest_go_run_for_the_commit_passes(tmp_path: Path) -> None:
    write_run(tmp_path, "20261127T190000Z", verdict="NO-GO")
    newest = write_run(tmp_path, "20261128T190211Z")
    write_run(tmp_path, "20261128T200000Z", gates=("preflight",), verdict="NO-GO")  # another gate
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert result.ok, result.reason
    assert result.summary_path == str(newest)
    assert result.reason == f"staging_gate GO for 1.4.2 @ {COMMIT}: {newest}"


def test_newest_no_go_run_fails_naming_the_file(tmp_path: Path) -> None:
    write_run(tmp_path, "20261127T190000Z")
    newest = write_run(tmp_path, "20261128T190211Z", verdict="NO-GO")
    result = check_staging_go(tmp_path, "1.4.2", COMMIT[:7])
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == f"newest staging_gate run {newest} has verdict NO-GO for 1.4.2 @ {COMMIT[:7]}"


def test_commit_mismatch_fails_naming_file_and_commits(tmp_path: Path) -> None:
    newest = write_run(tmp_path, "20261128T190211Z", commit="9d8e7f6")
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert not result.ok
    assert result.reason == f"newest staging_gate run {newest} does not match: commit 9d8e7f6 != {COMMIT}"
    assert result.evidence()["summary"] == str(newest)


def test_no_run_is_no_data(tmp_path: Path) -> None:
    write_run(tmp_path, "20261128T190211Z", version="1.4.1")
    write_run(tmp_path, "20261128T190211Z", env="production", gates=("staging_gate",))
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert not result.ok and result.category is Category.NO_DATA
    assert result.reason == f"no complete staging_gate run for version 1.4.2 in {tmp_path / '1.4.2' / 'staging'}"


def test_unreadable_summaries_are_skipped_and_counted(tmp_path: Path) -> None:
    good = write_run(tmp_path, "20261128T190211Z")
    broken = tmp_path / "1.4.2" / "staging" / "staging_gate-20261128T210000Z"
    broken.mkdir()
    (broken / "gate-summary.json").write_text("{not json")
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert result.ok and result.summary_path == str(good)
    assert result.reason.endswith("(1 unreadable summaries skipped)")


@pytest.mark.parametrize(
    ("found", "wanted", "same"),
    [
        ("3f9c2e1", COMMIT, True),
        (COMMIT, "3F9C2E1", True),
        ("3f9c2e", COMMIT, False),  # too short to trust
        ("3f9c2e2", COMMIT, False),
        ("", COMMIT, False),
    ],
)
def test_commits_match(found: str, wanted: str, same: bool) -> None:
    assert commits_match(found, wanted) is same


def test_a_partial_go_run_is_never_the_staging_go(tmp_path: Path) -> None:
    """A `-k` run said GO; go-live must not accept it (issue: a GO can be laundered)."""
    write_run(tmp_path, "20261128T190211Z", complete=False, not_run=[{"id": "SG-3", "why": "deselected by -k"}])
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert not result.ok
    assert result.category == Category.NO_DATA
    assert "no complete staging_gate run" in result.reason
    assert "1 incomplete runs ignored" in result.reason


def test_a_newer_partial_run_does_not_hide_the_complete_go(tmp_path: Path) -> None:
    complete = write_run(tmp_path, "20261128T180000Z")
    write_run(tmp_path, "20261128T190000Z", complete=False)
    result = check_staging_go(tmp_path, "1.4.2", COMMIT)
    assert result.ok, result.reason
    assert str(complete) in result.reason


def test_a_summary_without_the_complete_flag_is_not_accepted(tmp_path: Path) -> None:
    path = write_run(tmp_path, "20261128T190000Z")
    data = json.loads(path.read_text())
    del data["complete"]
    path.write_text(json.dumps(data))
    assert not check_staging_go(tmp_path, "1.4.2", COMMIT).ok
