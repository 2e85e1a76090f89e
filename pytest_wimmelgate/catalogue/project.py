"""A project's own catalogue file: where it is found, and the catalogue it makes with the built-in one.

The file is named by ``--wg-catalogue PATH``, ``WIMMELGATE_CATALOGUE``, the ini key
``wg_catalogue`` (CLI > env var > ini, as every option), or else it is
``wimmelgate-catalogue.yaml`` in pytest's rootdir, the folder of the project's
``pytest.ini``/``pyproject.toml``, when that file exists. A path from the command line or
the environment is relative to the working directory, one from the ini file to the ini
file's folder. A named file that does not exist is an error; the default one is optional.
`for_command` does the same for ``wimmelgate report``, which rebuilds a run's report outside pytest.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from pytest_wimmelgate.catalogue.checks import Catalogue, builtin
from pytest_wimmelgate.catalogue.loading import load_file
from pytest_wimmelgate.errors import ConfigError

DEFAULT_FILE = "wimmelgate-catalogue.yaml"
ENV_VAR = "WIMMELGATE_CATALOGUE"


def locate(spec: str | None, origin: str, *, invocation_dir: Path, inipath: Path | None, rootdir: Path) -> Path | None:
    """The project's catalogue file, or None when it names none and the default file is absent."""
    if not spec:
        default = rootdir / DEFAULT_FILE
        return default if default.is_file() else None
    path = Path(spec).expanduser()
    if not path.is_absolute():
        if origin.startswith("ini"):
            path = (inipath.parent if inipath is not None else rootdir) / path
        else:
            path = invocation_dir / path
    if not path.is_file():
        raise ConfigError(_display(path), "", f"expected a catalogue file (named by {origin}; the file does not exist)")
    return path


def for_command(spec: Path | None, *, cwd: Path, environ: Mapping[str, str]) -> Catalogue:
    """The catalogue of a command run outside pytest (``wimmelgate report``): ``--catalogue FILE``,
    ``WIMMELGATE_CATALOGUE``, or ``wimmelgate-catalogue.yaml`` in the working folder."""
    if spec is not None:
        value, origin = str(spec), "--catalogue"
    elif environ.get(ENV_VAR):
        value, origin = environ[ENV_VAR], ENV_VAR
    else:
        value, origin = None, "default"
    return project_catalogue(locate(value, origin, invocation_dir=cwd, inipath=None, rootdir=cwd))


def project_catalogue(path: Path | None) -> Catalogue:
    """The built-in catalogue, plus the file at ``path`` when there is one."""
    if path is None:
        return builtin()
    resolved = path.resolve()
    stat = resolved.stat()
    return _load(resolved, stat.st_mtime_ns, stat.st_size, _display(path))


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int, size: int, source: str) -> Catalogue:
    """Read once per content version (pytester runs configure many times in one process)."""
    return load_file(path, source, builtin())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
