"""The environment file's JSON Schema, assembled from one fragment per section, kept next to its parser.

``config/schema/environment.base.json`` holds the top-level keys, the shared ``$defs``
(``url``, ``seconds``, ``section``) and the order of the keys; a section that has a parser
(`pytest_wimmelgate.config.sections.PARSERS`) is ``null`` there, and its fragment is
``<section>.schema.json`` in the folder of its parser's module (the package folder for a
package): ``config/sections/logs.schema.json`` beside ``observability.py``,
``domain/calendar.schema.json`` beside ``calendar.py``, ``contract/backend.schema.json``
beside ``parse.py``. A new section is a parser, its ``PARSERS`` line, a ``null`` in the base
and its fragment.

The assembled document also ships whole as ``config/schema/environment.schema.json``, for
editors and readers; ``python -m pytest_wimmelgate.config.schema_parts`` rewrites it from
the parts, and a test keeps it current.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

PACKAGE = "pytest_wimmelgate"
BASE = "config/schema/environment.base.json"
SHIPPED = "config/schema/environment.schema.json"


def fragment_path(section: str) -> str:
    """Where the fragment of ``section`` lives, relative to the package: beside its parser."""
    from pytest_wimmelgate.config.sections import PARSERS

    module = PARSERS[section].partition(":")[0]
    parts = module.split(".")[1:]
    if not _package().joinpath(*parts).is_dir():  # a module: its folder; a package: itself
        parts = parts[:-1]
    return "/".join([*parts, f"{section}.schema.json"])


def base() -> dict[str, Any]:
    """The base document: top level, ``$defs``, and ``null`` where a section's fragment goes."""
    return dict(json.loads(_package().joinpath(BASE).read_text(encoding="utf-8")))


def assembled() -> dict[str, Any]:
    """The whole environment schema (a fresh copy: the parts are read once per process)."""
    return dict(json.loads(_assembled_text()))


@functools.lru_cache(maxsize=1)
def _assembled_text() -> str:
    document = base()
    properties = document["properties"]
    for section, fragment in properties.items():
        if fragment is None:
            properties[section] = json.loads(_package().joinpath(fragment_path(section)).read_text(encoding="utf-8"))
    return json.dumps(document)


def render(document: dict[str, Any]) -> str:
    """A schema document as the shipped files are written."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _package() -> Traversable:
    return resources.files(PACKAGE)


def main() -> None:
    """Rewrite the shipped whole schema from its parts."""
    from pathlib import Path

    target = Path(str(_package().joinpath(SHIPPED)))
    target.write_text(render(assembled()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
