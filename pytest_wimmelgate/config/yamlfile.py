"""YAML as the plugin reads it: safe, and a key given twice is an error, not a silent override."""

from __future__ import annotations

from typing import Any


def strict_loader() -> type:
    """A SafeLoader that rejects duplicate keys, as Prometheus' YAML parser does."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def load(text: str) -> Any:
    """Parse one YAML document strictly; raises ``yaml.YAMLError`` with marks."""
    import yaml

    return yaml.load(text, Loader=strict_loader())
