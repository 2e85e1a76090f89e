"""The wheel: it holds the plugin, its data and the gate suites (as ``wimmelgate_suites``), and the suites collect
from the installed package outside this checkout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, Installed


def test_the_wheel_holds_the_plugin_its_data_and_the_suites(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    suites = {f"wimmelgate_suites/{p.name}" for p in (ROOT / "suites").glob("*.py")}
    assert "wimmelgate_suites/__init__.py" in suites and "wimmelgate_suites/conftest.py" in suites
    assert suites <= names, f"suites missing from the wheel: {sorted(suites - names)}"
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pytest_wimmelgate").rglob("*.py")}
    assert modules - names == set(), "every module of the plugin is in the wheel"
    for data in (
        "pytest_wimmelgate/catalogue/wimmelwelt.yaml",
        "pytest_wimmelgate/contract/wimmelwelt.yaml",
        "pytest_wimmelgate/config/schema/environment.schema.json",
        "pytest_wimmelgate/init/template/pytest.ini",
        "pytest_wimmelgate/init/template/checks/test_health_budget.py.tmpl",
        "pytest_wimmelgate/init/template/environments/sandbox.yaml",
        "pytest_wimmelgate/py.typed",
    ):
        assert data in names, data
    assert not any("__pycache__" in name for name in names)


def test_the_installed_package_is_imported_not_this_checkout(installed: Installed, tmp_path: Path) -> None:
    done = installed.run(
        installed.python,
        "-c",
        "import pytest_wimmelgate as p, wimmelgate_suites as s; print(p.__file__); print(s.__file__)",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    plugin, suites = (Path(line) for line in done.stdout.split())
    assert installed.site_packages in plugin.parents and installed.site_packages in suites.parents
    assert ROOT not in plugin.parents and ROOT not in suites.parents


def test_the_installed_suites_collect_outside_the_checkout(installed: Installed, tmp_path: Path) -> None:
    done = installed.run(
        installed.python, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "wimmelgate_suites", "--co", "-q",
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert any(line.startswith("test_health.py::test_readiness_is_200") for line in collected), done.stdout
    assert len({line.split("::")[0] for line in collected}) == len(list((ROOT / "suites").glob("test_*.py")))
    assert not list(tmp_path.iterdir()), "collecting writes nothing"


@pytest.mark.parametrize("command", ["init", "catalogue", "sandbox"])
def test_the_installed_console_script_has_its_commands(installed: Installed, tmp_path: Path, command: str) -> None:
    done = installed.run(installed.wimmelgate, "--help", cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and command in done.stdout


@pytest.mark.parametrize(
    ("args", "gate_run"),
    [
        (["wimmelgate_suites"], True),
        (["wimmelgate_suites.test_health::test_readiness_is_200"], True),
        (["/venv/lib/python3.11/site-packages/wimmelgate_suites/test_smoke.py"], True),
        (["suites/test_health.py"], True),
        (["checks"], False),
        (["tests/core"], False),
    ],
)
def test_a_run_of_the_installed_suites_is_a_gate_run(args: list[str], gate_run: bool) -> None:
    """As a run of ``suites/`` is: ``pytest`` in a gate project (``testpaths = wimmelgate_suites checks``)."""
    from pytest_wimmelgate.core.selection import is_gate_run

    assert is_gate_run("", args, ROOT) is gate_run
