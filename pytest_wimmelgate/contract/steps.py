"""Parsing one contract step (``backend.contract.<step>``) into a frozen `Step`.

Every mistake is a `ConfigError` naming the file and the key path
(``backend.contract.login.captures.token.json``); the message never quotes the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.config.secrets import looks_secret
from pytest_wimmelgate.config.sections.reader import Node
from pytest_wimmelgate.contract.model import Body, Capture, Condition, FilePart, Step
from pytest_wimmelgate.contract.templates import Template, TemplateError, TemplateTree
from pytest_wimmelgate.errors import ConfigError

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STEP_KEYS = (
    "method",
    "path",
    "headers",
    "query",
    "json",
    "raw",
    "multipart",
    "expect",
    "captures",
    "session",
    "touches_database",
)
CAPTURE_KEYS = ("json", "header", "secret", "required")
FILE_KEYS = ("content", "filename", "content_type")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
STEP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_step(name: str, value: Any, source: str, path: str) -> Step:
    """One step; ``path`` is its key path (``backend.contract.<name>``)."""
    if not STEP_NAME.match(name):
        raise ConfigError(source, path, "expected a step name of lower-case letters, digits and _")
    node = Node(value, source, path)
    node.only(STEP_KEYS)
    bodies = [key for key in ("json", "raw", "multipart") if key in node]
    if len(bodies) > 1:
        raise ConfigError(
            source, node.where(bodies[1]), f"expected one body per step (json, raw or multipart), also {bodies[0]}"
        )
    method = node.text("method").upper()
    if method not in METHODS:
        raise node.error("method", f"expected one of {', '.join(METHODS)}")
    request_path = template(node, "path")
    if request_path.parts and not request_path.parts[0][1] and not request_path.parts[0][0].startswith("/"):
        raise node.error("path", "expected a path starting with '/' or a captured URL ('{{ name }}')")
    return Step(
        name=name,
        method=method,
        path=request_path,
        expect=statuses(node, "expect"),
        headers=headers(node, "headers"),
        query=templates(node, "query"),
        body=_body(node, bodies[0] if bodies else None),
        captures=_captures(node.child("captures")),
        session=node.boolean("session", False),
        touches_database=node.boolean("touches_database", False),
    )


def template(node: Node, key: str) -> Template:
    text = node.text(key, empty=True)
    return _parse_template(node, key, text)


def _parse_template(node: Node, key: str, text: str) -> Template:
    try:
        return Template.parse(text)
    except TemplateError as error:
        raise node.error(key, f"bad template: {error}") from None


def templates(node: Node, key: str) -> dict[str, Template]:
    """A mapping of names to templates (query parameters, form fields)."""
    child = node.child(key)
    found: dict[str, Template] = {}
    for name in child:
        if child.raw(name) is None:
            continue
        found[str(name)] = template(child, str(name))
    return found


def headers(node: Node, key: str) -> dict[str, Template]:
    """Header templates; a header set to null is left out (it removes a default header)."""
    child = node.child(key)
    for name in child:
        if not HEADER_NAME.match(str(name)):
            raise ConfigError(child.source, child.where(str(name)), "expected an HTTP header name")
    return templates(node, key)


def statuses(node: Node, key: str, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """One HTTP status or a list of them (``200``, ``"200"``, ``[200, 201]``)."""
    value = node.raw(key)
    if value is None:
        if default is None:
            raise node.error(key, "expected an HTTP status or a list of them (the key is missing)")
        return default
    items = value if isinstance(value, list) else [value]
    found: list[int] = []
    for item in items:
        number = _status(item)
        if number is None:
            raise node.error(key, "expected HTTP statuses between 100 and 599")
        found.append(number)
    if not found:
        raise node.error(key, "expected at least one HTTP status")
    return tuple(found)


def _status(item: Any) -> int | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item.strip())
    return item if isinstance(item, int) and 100 <= item <= 599 else None


def condition(node: Node, key: str) -> Condition | None:
    """An optional JMESPath condition; an invalid expression is a `ConfigError`."""
    text = node.optional_text(key)
    if text is None:
        return None
    return Condition(text, compile_jmespath(node, key, text))


def compile_jmespath(node: Node, key: str, text: str) -> Any:
    import jmespath
    import jmespath.exceptions

    try:
        return jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as error:
        kind = type(error).__name__
        raise node.error(key, f"expected a valid JMESPath expression ({kind})") from None


def _body(node: Node, kind: str | None) -> Body:
    if kind is None:
        return Body()
    if kind == "json":
        try:
            return Body("json", json=TemplateTree.parse(node.raw("json")))
        except TemplateError as error:
            raise node.error("json", f"bad template: {error}") from None
    if kind == "raw":
        return Body("raw", raw=template(node, "raw"))
    parts = node.child("multipart")
    fields: dict[str, Template] = {}
    files: dict[str, FilePart] = {}
    for name in parts:
        value = parts.raw(name)
        if isinstance(value, Mapping):
            part = parts.child(str(name))
            part.only(FILE_KEYS)
            files[str(name)] = FilePart(
                content=template(part, "content"),
                filename=template(part, "filename") if "filename" in part else None,
                content_type=template(part, "content_type") if "content_type" in part else None,
            )
        elif value is not None:
            fields[str(name)] = template(parts, str(name))
    return Body("multipart", fields=fields, files=files)


def _captures(node: Node) -> tuple[Capture, ...]:
    found = []
    for name in node:
        key = str(name)
        if not STEP_NAME.match(key):
            raise ConfigError(
                node.source, node.where(key), "expected a capture name of lower-case letters, digits and _"
            )
        spec = node.child(key)
        spec.only(CAPTURE_KEYS)
        sources = [s for s in ("json", "header") if s in spec]
        if len(sources) != 1:
            raise spec.error(
                "json", "expected exactly one of json (a JMESPath into the body) or header (a header name)"
            )
        source = sources[0]
        expression = spec.text(source)
        compiled = compile_jmespath(spec, source, expression) if source == "json" else None
        if source == "header" and not HEADER_NAME.match(expression):
            raise spec.error("header", "expected an HTTP header name")
        found.append(
            Capture(
                name=key,
                source=source,
                expression=expression,
                secret=spec.boolean("secret", False) or looks_secret(key),
                required=spec.boolean("required", True),
                compiled=compiled,
            )
        )
    return tuple(found)
