"""The README's generated tables match their sources: the catalogue and the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.catalogue import reference
from pytest_wimmelgate.core import options

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("table", sorted(reference.MARKERS))
def test_generated_table_is_current(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert reference.embedded(text, table) == reference.RENDERERS[table](), (
        f"README table {table!r} is stale: run python -m pytest_wimmelgate.catalogue.reference"
    )


def test_environment_reference_names_every_schema_key() -> None:
    from pytest_wimmelgate.config.environment import schema

    text = reference.embedded(README.read_text(encoding="utf-8"), "environment")
    for key in schema()["properties"]:
        assert f"| `{key}` |" in text


def test_every_option_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    for setting in options.SETTINGS:
        assert f"`{setting.option}" in text, setting.option
        if setting.env:
            assert f"`{setting.env}`" in text, setting.env
