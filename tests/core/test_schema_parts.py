"""One schema fragment per section, beside its parser; the shipped whole schema is assembled from them."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path

from pytest_wimmelgate.config import schema_parts
from pytest_wimmelgate.config.environment import schema
from pytest_wimmelgate.config.sections import PARSERS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_wimmelgate"


def test_the_shipped_schema_is_the_assembled_one() -> None:
    shipped = (PACKAGE / schema_parts.SHIPPED).read_text(encoding="utf-8")
    assert shipped == schema_parts.render(schema_parts.assembled()), (
        "environment.schema.json is stale or edited by hand: edit the section's fragment (schema_parts."
        "fragment_path) or environment.base.json, then run python -m pytest_wimmelgate.config.schema_parts"
    )
    assert schema() == json.loads(shipped), "validation and the README reference read the assembled schema"


def test_every_section_with_a_parser_has_its_fragment_beside_the_parser_and_only_there() -> None:
    base = schema_parts.base()["properties"]
    assert sorted(k for k, v in base.items() if v is None) == sorted(PARSERS), "null in the base = a parsed section"
    for section, target in PARSERS.items():
        fragment = PACKAGE / schema_parts.fragment_path(section)
        module = target.partition(":")[0].split(".")[1:]
        parser_file = PACKAGE.joinpath(*module)
        folder = parser_file if parser_file.is_dir() else parser_file.parent
        assert fragment.parent == folder and fragment.is_file(), (section, fragment)
        assert isinstance(json.loads(fragment.read_text(encoding="utf-8")), dict), fragment
    fragments = {p for p in PACKAGE.rglob("*.schema.json") if p.parent.name != "schema"}
    assert fragments == {PACKAGE / schema_parts.fragment_path(s) for s in PARSERS}, "a fragment without a parser"


def test_the_wheel_carries_every_fragment() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["pytest_wimmelgate"]
    for section in PARSERS:
        path = schema_parts.fragment_path(section)
        assert any(fnmatch.fnmatch(path, pattern) for pattern in patterns), f"package-data misses {path}"
    assert any(fnmatch.fnmatch(schema_parts.BASE, pattern) for pattern in patterns)
