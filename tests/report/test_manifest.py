"""MANIFEST.sha256: every file of the run folder, checked with the real ``sha256sum -c``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_wimmelgate import cli
from pytest_wimmelgate.artifacts.manifest import MANIFEST, verify_manifest, write_manifest
from tests.report.conftest import SuiteRun, run_gate

pytestmark = pytest.mark.skipif(shutil.which("sha256sum") is None, reason="GNU coreutils sha256sum not installed")


def sha256sum_check(run_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "--strict", "-c", MANIFEST], cwd=run_dir, capture_output=True, text=True, timeout=60, check=False
    )


def listed(run_dir: Path) -> list[str]:
    return [line.split("  ", 1)[1] for line in (run_dir / MANIFEST).read_text().splitlines()]


def test_manifest_of_a_real_gate_run_passes_sha256sum(gate_dir: pytest.Pytester) -> None:
    run_dir = run_gate(gate_dir)
    names = listed(run_dir)
    assert {
        "gate-summary.json",
        "junit.xml",
        "release-note.md",
        "report/index.html",
        "report/runbook.html",
        "allure-results/environment.properties",
        "allure-results/categories.json",
        "allure-results/executor.json",
    } <= set(names)
    assert any(n.startswith("allure-results/") and n.endswith("-result.json") for n in names)
    assert MANIFEST not in names and not [n for n in names if n.endswith(".lock")]
    assert names == sorted(names)
    done = sha256sum_check(run_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(names)
    assert verify_manifest(run_dir) == []


def test_the_quickstart_run_folder_passes_sha256sum_with_its_report_and_release_note(sandbox_go_run: SuiteRun) -> None:
    run_dir = sandbox_go_run.run_dir
    assert {"report/index.html", "report/allure.html", "report/runbook.html", "release-note.md"} <= set(listed(run_dir))
    done = sha256sum_check(run_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def test_wimmelgate_report_rebuilds_the_report_and_the_manifest_checks_afterwards(
    gate_dir: pytest.Pytester, allure_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = run_gate(gate_dir)
    assert not (run_dir / "report" / "allure.html").exists(), "the inner run had --wg-report off"
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0]]) == 0
    out = capsys.readouterr().out
    assert "report/index.html (release decision); full Allure report" in out and "Allure 3.18.0" in out
    assert (run_dir / "report" / "allure.html").is_file()
    assert cli.main(["manifest", str(run_dir), "--check"]) == 0
    assert sha256sum_check(run_dir).returncode == 0
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0]]) == 0, "repeatable"
    assert sha256sum_check(run_dir).returncode == 0


def test_wimmelgate_report_refuses_to_bless_changed_evidence(
    gate_dir: pytest.Pytester, allure_cli: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = run_gate(gate_dir)
    summary = run_dir / "gate-summary.json"
    summary.write_text(summary.read_text().replace('"NO-GO"', '"GO"'))
    assert cli.main(["report", str(run_dir), "--allure", allure_cli[0]]) == 1
    out = capsys.readouterr().out
    assert "gate-summary.json: checksum differs" in out and "nothing rewritten" in out
    assert not (run_dir / "report" / "allure.html").exists()
    assert sha256sum_check(run_dir).returncode != 0, "the manifest still tells the truth"


def test_wimmelgate_report_needs_a_run_folder_and_an_allure(
    gate_dir: pytest.Pytester, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", str(tmp_path)]) == 4
    assert "not a run folder" in capsys.readouterr().err
    run_dir = run_gate(gate_dir)
    assert cli.main(["report", str(run_dir), "--allure", str(tmp_path / "no-allure")]) == 4
    assert "not an executable" in capsys.readouterr().err


def test_awkward_names_nested_folders_and_a_rewrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "report" / "deep" / "er").mkdir(parents=True)
    (run_dir / "report" / "deep" / "er" / "evidence 1.json").write_text("{}")
    (run_dir / "back\\slash.txt").write_bytes(b"\x00\xff binary")
    (run_dir / "new\nline.txt").write_text("two\nlines\n")
    (run_dir / "empty").write_bytes(b"")
    (run_dir / "other.lock").write_text("")
    write_manifest(run_dir)
    write_manifest(run_dir)
    done = sha256sum_check(run_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 4
    assert "other.lock" not in (run_dir / MANIFEST).read_text()
    assert verify_manifest(run_dir) == []


def test_a_changed_missing_or_added_file_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "gate-summary.json").write_text('{"verdict": "NO-GO"}')
    (run_dir / "junit.xml").write_text("<testsuites/>")
    assert cli.main(["manifest", str(run_dir)]) == 0
    assert cli.main(["manifest", str(run_dir), "--check"]) == 0
    (run_dir / "gate-summary.json").write_text('{"verdict": "GO"}')
    (run_dir / "junit.xml").unlink()
    (run_dir / "later.txt").write_text("added")
    assert sha256sum_check(run_dir).returncode != 0
    assert sorted(verify_manifest(run_dir)) == [
        "gate-summary.json: checksum differs",
        "junit.xml: missing",
        "later.txt: not in MANIFEST.sha256",
    ]
    capsys.readouterr()
    assert cli.main(["manifest", str(run_dir), "--check"]) == 1
    assert "checksum differs" in capsys.readouterr().out
    assert cli.main(["manifest", str(tmp_path / "absent")]) == 4
