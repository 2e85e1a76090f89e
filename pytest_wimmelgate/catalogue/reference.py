"""README tables rendered from their sources: the gates from the catalogue, the
environment file reference from the shipped JSON Schema.

The README embeds each table between markers; a test renders them again and compares,
so the documentation cannot drift. ``python -m pytest_wimmelgate.catalogue.reference`` rewrites
the README in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_wimmelgate.catalogue.checks import builtin
from pytest_wimmelgate.config.environment import schema

MARKERS = {
    "gates": ("<!-- gates:begin (python -m pytest_wimmelgate.catalogue.reference) -->", "<!-- gates:end -->"),
    "environment": (
        "<!-- environment-reference:begin (python -m pytest_wimmelgate.catalogue.reference) -->",
        "<!-- environment-reference:end -->",
    ),
}


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    return str(kind)


def _rows(properties: dict[str, Any], prefix: str, defs: dict[str, Any], required: list[str]) -> list[str]:
    rows = []
    for name, node in properties.items():
        resolved = {**defs[node["$ref"].rsplit("/", 1)[-1]], **node} if "$ref" in node else node
        key = f"{prefix}{name}"
        description = str(resolved.get("description", "")).replace("|", "\\|")
        mark = " (required)" if name in required else ""
        rows.append(f"| `{key}` | {_type(node, defs)}{mark} | {description} |")
        if resolved.get("type") == "object" and "properties" in resolved:
            rows += _rows(resolved["properties"], f"{key}.", defs, list(resolved.get("required", [])))
        items = resolved.get("items", {})
        if isinstance(items, dict) and items.get("type") == "object" and "properties" in items:
            rows += _rows(items["properties"], f"{key}[].", defs, list(items.get("required", [])))
    return rows


def render_gates() -> str:
    """One row per gate of the built-in catalogue: runbook sections, description and its check ids."""
    lines = ["| gate | runbook § | what it decides | checks |", "|---|---|---|---|"]
    shipped = builtin()
    for gate in shipped.gates:
        ids = " ".join(c.id for c in shipped.checks_of([gate.name]))
        lines.append(f"| `{gate.name}` | {', '.join(gate.sections)} | {gate.description} | {ids} |")
    return "\n".join(lines)


def render_environment() -> str:
    """The reference table, one row per key of the schema."""
    document = schema()
    defs = document.get("$defs", {})
    lines = ["| key | type | meaning |", "|---|---|---|"]
    lines += _rows(document["properties"], "", defs, list(document.get("required", [])))
    return "\n".join(lines)


RENDERERS = {"gates": render_gates, "environment": render_environment}


def embedded(readme: str, table: str) -> str:
    """The text currently between the README's markers of ``table``."""
    begin, end = MARKERS[table]
    start, stop = readme.index(begin) + len(begin), readme.index(end)
    return readme[start:stop].strip()


def rewrite(readme: str) -> str:
    """The README with every generated table rendered anew."""
    for table, (begin, end) in MARKERS.items():
        start, stop = readme.index(begin) + len(begin), readme.index(end)
        readme = readme[:start] + "\n" + RENDERERS[table]() + "\n" + readme[stop:]
    return readme


if __name__ == "__main__":
    path = Path("README.md")
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
