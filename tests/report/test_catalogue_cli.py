"""``wimmelgate catalogue``: check ids against the tests that implement them; the command itself."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pytest_wimmelgate import cli
from pytest_wimmelgate.catalogue import coverage
from pytest_wimmelgate.catalogue.checks import CHECKS

ONE_CHECK = """
import pytest

@pytest.mark.check("SG-1")
def test_health():
    pass

@pytest.mark.check("SG-1")
@pytest.mark.parametrize("path", ["/health", "/healthz"])
def test_health_paths(path):
    pass

def test_helper_without_check():
    pass
"""


def suites(tmp_path: Path, name: str, **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for filename, text in files.items():
        (folder / f"{filename}.py").write_text(text)
    return folder


def test_a_check_without_a_test_exits_1_and_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = suites(tmp_path, "suites", test_health=ONE_CHECK)
    assert cli.main(["catalogue", "--suites", str(folder)]) == 1
    out = capsys.readouterr().out
    sg1 = next(line for line in out.splitlines() if line.startswith("SG-1 "))
    assert "staging_gate, prod_smoke" in sg1 and "§2.2" in sg1 and "test_health.py::test_health" in sg1
    assert "test_health.py::test_health_paths[/health]" in out
    assert "test_helper_without_check" not in out
    assert f"checks without a test ({len(CHECKS) - 1}): PF-1, PF-2" in out
    assert ", SG-1," not in out.splitlines()[-1]


def test_json_output_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = suites(
        tmp_path,
        "suites_json",
        test_health=ONE_CHECK,
        test_typo="import pytest\n@pytest.mark.check('SG-99')\ndef test_typo(): pass\n",
    )
    assert cli.main(["catalogue", "--suites", str(folder), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "wimmelgate/catalogue/v1" and data["complete"] is False
    assert [c["id"] for c in data["checks"]] == [c.id for c in CHECKS]
    sg1 = next(c for c in data["checks"] if c["id"] == "SG-1")
    assert set(sg1) == {
        *("id", "title", "gates", "sections", "runbook", "area", "destructive"),
        *("severity", "uses", "catalogue", "tests"),
    }
    assert sg1["severity"] == "critical" and sg1["uses"] == ["backend"]
    assert sg1["catalogue"] == "pytest_wimmelgate/catalogue/wimmelwelt.yaml"
    assert sg1["gates"] == ["staging_gate", "prod_smoke"] and sg1["sections"] == ["2.2"]
    assert sg1["runbook"] == ["docs/runbook.md#22-staging-gate-t-12h"]
    assert len(sg1["tests"]) == 3 and all("::test_health" in t for t in sg1["tests"])
    assert "SG-1" not in data["missing"] and "SG-2" in data["missing"]
    assert len(data["missing"]) == len(CHECKS) - 1
    assert list(data["unknown"]) == ["SG-99"] and data["unknown"]["SG-99"][0].endswith("test_typo.py::test_typo")


def test_every_check_implemented_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "import pytest\n" + "".join(
        f"\n@pytest.mark.check({c.id!r})\ndef test_{c.id.replace('-', '_')}():\n    pass\n" for c in CHECKS
    )
    folder = suites(tmp_path, "suites_all", test_all=body)
    assert cli.main(["catalogue", "--suites", str(folder)]) == 0
    assert "checks without a test (0): none" in capsys.readouterr().out


def test_coverage_is_importable_for_the_report() -> None:
    found = {"SG-1": ["suites/test_health.py::test_health"], "XX-1": ["suites/t.py::test_x"]}
    result = coverage.build_coverage(found)
    assert result.missing[:2] == ("PF-1", "PF-2") and "SG-1" not in result.missing
    markdown = coverage.coverage_markdown(result)
    assert "| SG-1 | staging_gate, prod_smoke | [§2.2](docs/runbook.md#22-staging-gate-t-12h) |" in markdown
    assert "**no test**" in markdown and "Unknown check id `XX-1`" in markdown


def test_bad_suites_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["catalogue", "--suites", str(tmp_path / "absent")]) == 4
    assert "not a folder" in capsys.readouterr().err
    broken = suites(tmp_path, "broken", test_broken="import pytest\ndef test_x(:\n")
    assert cli.main(["catalogue", "--suites", str(broken)]) == 4
    err = capsys.readouterr().err
    assert "collection failed" in err and "SyntaxError" in err


def test_the_console_script_lists_its_subcommands() -> None:
    script = Path(sys.executable).with_name("wimmelgate")
    assert script.is_file(), "pip install -e . installs the `wimmelgate` console script"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    for command in ("catalogue", "report", "manifest", "sandbox"):
        assert command in done.stdout
    bad = subprocess.run([str(script), "nonsense"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 4


def test_sandbox_delegates_to_run_foreground(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run_foreground(argv: list[str]) -> int:
        calls.append(argv)
        return 0

    fake = types.ModuleType("fake_foreground")
    fake.run_foreground = run_foreground  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_foreground", fake)
    monkeypatch.setattr(cli, "SANDBOX_MODULE", "fake_foreground")
    assert cli.main(["sandbox", "--storage", "local", "--help"]) == 0
    assert calls == [["--storage", "local", "--help"]]


def test_sandbox_missing_is_a_clear_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "SANDBOX_MODULE", "pytest_wimmelgate.sandbox.no_such_foreground")
    assert cli.main(["sandbox"]) == 4
    assert "wimmelgate sandbox: not available" in capsys.readouterr().err


def test_sandbox_help_comes_from_the_real_foreground_module() -> None:
    pytest.importorskip("pytest_wimmelgate.sandbox.launcher.foreground")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("wimmelgate")), "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "wimmelgate sandbox" in done.stdout


def test_the_project_suites_collect(capsys: pytest.CaptureFixture[str]) -> None:
    suites_dir = Path(__file__).resolve().parents[2] / "suites"
    assert cli.main(["catalogue", "--suites", str(suites_dir), "--json"]) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    tests = [t for c in data["checks"] for t in c["tests"]]
    assert tests and all(t.startswith("suites/") for t in tests)
    assert data["unknown"] == {}, "every check id used by the suites is in the catalogue"
