"""An installed pytest-wimmelgate, away from this checkout: the wheel of this tree in a fresh virtualenv.

`wheel` builds the wheel the way a release does (``pip wheel . --no-deps``, with build isolation) from a copy of
this tree. `installed` makes a fresh virtualenv outside the checkout and installs that wheel with ``--no-deps``
and no index; its dependencies come from the running interpreter's site-packages through a ``.pth`` line (a
path line adds that folder to ``sys.path`` without running its ``.pth`` files, so this checkout's editable
install stays out). Both are built once per test run, also under xdist (a file lock in the shared base temp).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.report.conftest import clean_environ

ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCE = (".git", ".venv", "node_modules", "releases", "build", "dist", ".ci", "__pycache__", "*.egg-info")
NOT_SOURCE += (".mypy_cache", ".pytest_cache", ".ruff_cache")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base temp folder all xdist workers of this run share."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this tree, built by ``pip wheel . --no-deps`` from a copy (the checkout gets no build/)."""
    folder = _shared(tmp_path_factory) / "wimmelgate-wheel"
    with _locked(folder.with_suffix(".lock")):
        built = sorted((folder / "dist").glob("pytest_wimmelgate-*.whl"))
        if built:
            return built[0]
        source = folder / "source"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(folder / "dist")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=clean_environ(),
        )
        assert done.returncode == 0, f"pip wheel failed (it needs setuptools from the index):\n{done.stderr}"
        [found] = sorted((folder / "dist").glob("pytest_wimmelgate-*.whl"))
        return found


@dataclass(frozen=True)
class Installed:
    """A virtualenv with the wheel installed; runs its Python away from this checkout."""

    venv: Path
    site_packages: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def wimmelgate(self) -> Path:
        return self.venv / "bin" / "wimmelgate"

    def environ(self, **extra: str) -> dict[str, str]:
        """A clean environment: no outer gate settings, no PYTHONPATH; PATH finds the sandbox extra's
        ``secantusd-py`` (installed beside the dependencies' interpreter, as ``pip install '.[sandbox]'`` would)."""
        environ = {k: v for k, v in clean_environ().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        environ["PATH"] = os.pathsep.join([str(self.venv / "bin"), str(Path(sys.executable).parent), environ["PATH"]])
        environ.update(extra)
        return environ

    def run(
        self, *args: str | Path, cwd: Path, timeout: float = 300, environ: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=dict(environ or self.environ()),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed (``--no-deps --no-index``) into a fresh virtualenv outside the checkout."""
    folder = _shared(tmp_path_factory) / "wimmelgate-venv"
    with _locked(folder.with_suffix(".lock")):
        venv = folder / "venv"
        python = venv / "bin" / "python"
        if not (folder / "ready").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
            site = Path(
                subprocess.run(
                    [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            )
            (site / "wimmelgate-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(python),
                    "install",
                    "--no-deps",
                    "--no-index",
                    str(wheel),
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            (folder / "ready").write_text(str(site))
        return Installed(venv, Path((folder / "ready").read_text()))
