"""Templates of contract steps: ``{{ name }}`` placeholders over run values and captured values.

A placeholder names one value: a dotted run value (``run.id``, ``run.fresh``,
``account.username``, ``message.text``, ...) or a bare name captured by an earlier step
(``token``, ``message_id``). Nothing else is allowed inside the braces (no filters, no
expressions), so a template can be checked completely at start. A text that is exactly
one placeholder renders the value itself (bytes for a raw body, a list in a JSON body);
anything else renders as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_PLACEHOLDER = re.compile(r"\{\{\s*(" + NAME + r")\s*\}\}")
_OPEN_OR_CLOSE = re.compile(r"\{\{|\}\}")


class TemplateError(ValueError):
    """A template that cannot be parsed; the message never quotes the template."""


class MissingValue(LookupError):
    """A placeholder whose value is not known when the step runs."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)


@dataclass(frozen=True)
class Template:
    """A parsed template: literal texts and placeholder names in order."""

    parts: tuple[tuple[str, bool], ...]  # (text, is_placeholder)

    @classmethod
    def parse(cls, text: str) -> Template:
        parts: list[tuple[str, bool]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            _literal(text[position : match.start()], parts)
            parts.append((match.group(1), True))
            position = match.end()
        _literal(text[position:], parts)
        return cls(tuple(parts))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(text for text, is_name in self.parts if is_name)

    @property
    def literal(self) -> str:
        """The template's own text without its placeholders (what a reader wrote literally)."""
        return "".join(text for text, is_name in self.parts if not is_name)

    @property
    def whole(self) -> bool:
        return len(self.parts) == 1 and self.parts[0][1]

    def render(self, values: Mapping[str, Any]) -> Any:
        """The value of a whole placeholder, else the text with every placeholder filled in."""
        if self.whole:
            return _value(self.parts[0][0], values)
        pieces = []
        for text, is_name in self.parts:
            pieces.append(_text(_value(text, values)) if is_name else text)
        return "".join(pieces)

    def render_text(self, values: Mapping[str, Any]) -> str:
        return _text(self.render(values))

    def render_path(self, values: Mapping[str, Any]) -> str:
        """A request path: placeholders after the first part are percent-encoded (a leading one
        may be a captured URL or path and stays as it is)."""
        from urllib.parse import quote

        pieces = []
        for index, (text, is_name) in enumerate(self.parts):
            if not is_name:
                pieces.append(text)
            else:
                value = _text(_value(text, values))
                pieces.append(value if index == 0 else quote(value, safe=""))
        return "".join(pieces)


def _literal(text: str, parts: list[tuple[str, bool]]) -> None:
    if _OPEN_OR_CLOSE.search(text):
        raise TemplateError(
            "a '{{' or '}}' that is not a placeholder '{{ name }}' (names are letters, digits, _ and .)"
        )
    if text:
        parts.append((text, False))


def _value(name: str, values: Mapping[str, Any]) -> Any:
    if name not in values or values[name] is None:
        raise MissingValue(name)
    return values[name]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class TemplateTree:
    """A JSON-like tree (mapping, list, scalars) whose texts are templates, parsed once."""

    node: Any

    @classmethod
    def parse(cls, node: Any) -> TemplateTree:
        return cls(_parse_tree(node))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for template in _templates(self.node) for name in template.names)

    @property
    def literals(self) -> tuple[str, ...]:
        return tuple(template.literal for template in _templates(self.node))

    def render(self, values: Mapping[str, Any]) -> Any:
        return _render_tree(self.node, values)


def _parse_tree(node: Any) -> Any:
    if isinstance(node, str):
        return Template.parse(node)
    if isinstance(node, Mapping):
        return {str(key): _parse_tree(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_parse_tree(value) for value in node]
    return node


def _templates(node: Any) -> Iterator[Template]:
    if isinstance(node, Template):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _templates(value)
    elif isinstance(node, list):
        for value in node:
            yield from _templates(value)


def _render_tree(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, Template):
        rendered = node.render(values)
        return rendered.decode("utf-8", "replace") if isinstance(rendered, bytes) else rendered
    if isinstance(node, Mapping):
        return {key: _render_tree(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_render_tree(value, values) for value in node]
    return node
