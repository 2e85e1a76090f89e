"""``wimmelgate init DIR``: start a gate project from the template shipped in ``init/template/``.

The project runs the installed gate suites (``wimmelgate_suites``) plus its own checks:
``pytest.ini`` (wiring and options), ``wimmelgate-catalogue.yaml`` (one team check, TEAM-1,
in ``staging_gate`` and in its own ``team_gate``), ``checks/`` (its test and rule),
``environments/sandbox.yaml`` (runs at once against the reference backend) and
``environments/staging.yaml`` (a template), a README and a ``.gitignore``.

Template files are data; ``*.tmpl`` holds Python files (so no tool collects or imports
them inside this package) and ``gitignore`` becomes ``.gitignore``; ``{{project}}`` is
replaced by the folder's name. A folder that holds anything is refused unless ``force``,
which writes the template's files over files of the same name and keeps every other file.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from pytest_wimmelgate.errors import ConfigError

TEMPLATE = "init/template"
RENAMES = {"gitignore": ".gitignore"}
SUFFIX = ".tmpl"


def template_files() -> dict[str, str]:
    """Relative path in the new project -> text, for every file of the template."""
    root = resources.files("pytest_wimmelgate").joinpath(TEMPLATE)
    files: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                if child.name != "__pycache__":
                    walk(child, f"{prefix}{child.name}/")
                continue
            name = RENAMES.get(child.name, child.name.removesuffix(SUFFIX))
            files[prefix + name] = child.read_text(encoding="utf-8")

    walk(root, "")
    return files


def create(target: Path, *, force: bool = False) -> list[Path]:
    """Write the template into ``target``; the files written, in order. A non-empty folder needs ``force``."""
    if target.exists() and not target.is_dir():
        raise ConfigError(str(target), "", "expected a folder for the gate project (this is a file)")
    if target.is_dir() and any(target.iterdir()) and not force:
        count = sum(1 for _ in target.iterdir())
        raise ConfigError(
            str(target),
            "",
            f"expected an empty folder (it holds {count} entr{'y' if count == 1 else 'ies'}); "
            "--force writes the project's files into it, replacing files of the same name",
        )
    project = target.resolve().name
    written = []
    for relative, text in template_files().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{{project}}", project), encoding="utf-8")
        written.append(path)
    return written
