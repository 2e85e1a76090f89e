"""YAML as the plugin reads it: safe, a key given twice is an error, aliases are bounded.

An alias repeats a node without copying it, so a small file can describe a tree of
billions of nodes ("billion laughs"); every later walk over it would run out of time
and memory. `load` counts the nodes of the document with every alias expanded and
refuses one above `MAX_EXPANDED_NODES` before anything is built.
"""

from __future__ import annotations

import functools
from typing import Any

MAX_EXPANDED_NODES = 100_000


@functools.cache
def strict_loader() -> type:
    """A safe loader that rejects duplicate keys, as Prometheus' YAML parser does.

    libyaml's parser when PyYAML has it (``CSafeLoader``, about eight times faster: the
    environment file and the catalogue are read by every gate run), else the pure-Python one.
    """
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc]
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
            return dict(super().construct_mapping(node, deep=deep))

    return StrictLoader


def load(text: str) -> Any:
    """Parse one YAML document strictly; raises ``yaml.YAMLError`` with marks."""
    loader = strict_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expanded_size(root: Any) -> None:
    """Refuse a document whose alias-expanded tree exceeds `MAX_EXPANDED_NODES`."""
    import yaml

    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a node that contains itself counts once (recursive aliases)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
        sizes[id(node)] = total
        if total > MAX_EXPANDED_NODES:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"too many nodes once aliases are expanded (more than {MAX_EXPANDED_NODES}; an alias bomb?)",
                node.start_mark,
            )
        return total

    size(root)
