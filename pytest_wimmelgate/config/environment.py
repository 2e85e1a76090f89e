"""Environment files: load, extend, interpolate ``${VAR}`` lazily, validate.

An environment file describes one target (sandbox, staging, production): endpoints,
runbook limits, windows, waivers. Placeholders ``${VAR}`` and ``${VAR:-default}`` are
resolved from the process environment plus values the run provides (the sandbox's
URLs). A placeholder is resolved only when a check reads it, so a run needs only the
variables its selected checks use; `Environment.require` resolves whole sections up
front so that a missing variable ends the run before any check starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config import yamlfile
from pytest_wimmelgate.errors import ConfigError, NotConfigured

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
WHOLE_PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")
BUILTIN_NAMES = ("sandbox", "staging", "production")


@dataclass(frozen=True)
class Unresolved:
    """A placeholder whose variable is not set and has no default."""

    variable: str
    key_path: str


@dataclass(frozen=True)
class Environment:
    """A parsed environment file; values are resolved on access."""

    name: str
    source: str
    origin: str
    raw: Mapping[str, Any]
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def protected(self) -> bool:
        return bool(self.raw.get("protected", False))

    def with_variables(self, extra: Mapping[str, str]) -> Environment:
        """The same file with more interpolation values (e.g. the sandbox's URLs)."""
        merged = {**self.variables, **extra}
        return Environment(self.name, self.source, self.origin, self.raw, merged)

    def has(self, key_path: str) -> bool:
        try:
            self._raw_at(key_path)
        except NotConfigured:
            return False
        return True

    def get(self, key_path: str, default: Any = NotConfigured) -> Any:
        """The resolved value at a dotted key path.

        Missing key: `NotConfigured` (the check skips) unless a default is given.
        Unresolvable placeholder: `ConfigError` naming the file, key path and variable.
        """
        try:
            raw = self._raw_at(key_path)
        except NotConfigured:
            if default is NotConfigured:
                raise
            return default
        value = _resolve(raw, key_path, self.variables)
        problems = list(_unresolved(value))
        if problems:
            first = problems[0]
            raise ConfigError(
                self.source,
                first.key_path,
                f"variable ${{{first.variable}}} is not set (set it, or give a default: ${{{first.variable}:-...}})",
            )
        return value

    def require(self, sections: Iterable[str]) -> None:
        """Resolve whole sections now; raise `ConfigError` for the first unresolved one."""
        for section in sections:
            if self.has(section):
                self.get(section)

    def unresolved_in(self, sections: Iterable[str]) -> list[Unresolved]:
        found: list[Unresolved] = []
        for section in sections:
            if self.has(section):
                found.extend(_unresolved(_resolve(self._raw_at(section), section, self.variables)))
        return found

    def _raw_at(self, key_path: str) -> Any:
        node: Any = self.raw
        for part in key_path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise NotConfigured(key_path)
            node = node[part]
        return node


def builtin_search_dirs(rootdir: Path) -> list[Path]:
    return [rootdir / "environments", Path.cwd() / "environments"]


def locate(spec: str, rootdir: Path) -> Path:
    """Map ``NAME`` or ``PATH`` to a file; a missing file is a `ConfigError`."""
    candidate = Path(spec)
    if candidate.suffix in (".yaml", ".yml") or "/" in spec or candidate.exists():
        if candidate.is_file():
            return candidate
        raise ConfigError(spec, "", "file not found (expected a readable YAML environment file)")
    for folder in builtin_search_dirs(rootdir):
        for suffix in (".yaml", ".yml"):
            path = folder / f"{spec}{suffix}"
            if path.is_file():
                return path
    raise ConfigError(
        f"environments/{spec}.yaml",
        "",
        f"file not found (expected a name of a file in {rootdir / 'environments'}, "
        f"e.g. {', '.join(BUILTIN_NAMES)}, or a path to a YAML file)",
    )


def load(
    spec: str, *, rootdir: Path, origin: str = "default", variables: Mapping[str, str] | None = None
) -> Environment:
    """Load, merge (``extends``) and validate an environment file."""
    path = locate(spec, rootdir)
    raw = _load_merged(path, chain=())
    env = Environment(
        name=str(raw.get("name") or path.stem),
        source=_display(path),
        origin=origin,
        raw=raw,
        variables=dict(variables or {}),
    )
    validate(env)
    return env


def validate(env: Environment, *, resolved_sections: Iterable[str] = ()) -> None:
    """Check the file against the shipped JSON Schema; the first error is a `ConfigError`.

    Values still holding an unresolved placeholder are not type-checked yet; sections
    named in ``resolved_sections`` are resolved first and checked fully. A tree that
    validated before (same schema, same resolved content) is not validated again: the
    validation cache holds content hashes only, never values.
    """
    tree = _resolve(env.raw, "", env.variables)
    for section in resolved_sections:
        if env.has(section):
            tree[section] = env.get(section)
    marker = _validation_marker(tree)
    if marker is not None and marker.exists():
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(tree), key=lambda e: list(e.absolute_path))
    for error in errors:
        if isinstance(error.instance, Unresolved):
            continue
        raise ConfigError(env.source, _key_path(error.absolute_path), _expected(error))
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass


def _validation_marker(tree: Any) -> Path | None:
    """Where a successful validation of this exact tree is remembered (a hash, no values)."""
    import hashlib
    import os

    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    text = _schema_text() + json.dumps(tree, sort_keys=True, default=repr)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Path(root) / "pytest-wimmelgate" / "validated" / digest


def schema() -> dict[str, Any]:
    """The JSON Schema of environment files, shipped inside the package."""
    return dict(json.loads(_schema_text()))


def _schema_text() -> str:
    path = resources.files("pytest_wimmelgate").joinpath("config/schema/environment.schema.json")
    return path.read_text(encoding="utf-8")


def _load_merged(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    import yaml

    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(_display(p) for p in (*chain, resolved))
        raise ConfigError(_display(path), "extends", f"no cycle (found {cycle})")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(_display(path), "", f"readable file ({exc.strerror})") from None
    try:
        data = yamlfile.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(_display(path), where, f"valid YAML ({problem})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(_display(path), "", f"a mapping at top level, got {type(data).__name__}")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(_display(path), "extends", "a file name or path (string)")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.suffix:
        parent_path = parent_path.with_suffix(".yaml")
    if not parent_path.is_file():
        raise ConfigError(_display(path), "extends", f"an existing file (not found: {parent})")
    return _deep_merge(_load_merged(parent_path, (*chain, resolved)), data)


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _resolve(node: Any, key_path: str, variables: Mapping[str, str]) -> Any:
    if isinstance(node, Mapping):
        return {k: _resolve(v, _join(key_path, str(k)), variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, f"{key_path}[{i}]", variables) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        return _interpolate(node, key_path, variables)
    return node


def _interpolate(text: str, key_path: str, variables: Mapping[str, str]) -> Any:
    import os

    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = variables.get(name, os.environ.get(name))
        if value is None or (value == "" and default is not None):
            if default is None:
                missing.append(name)
                return ""
            return default
        return value

    result = PLACEHOLDER.sub(substitute, text)
    if missing:
        return Unresolved(missing[0], key_path)
    if WHOLE_PLACEHOLDER.match(text):
        return _scalar(result)
    return result


def _scalar(text: str) -> Any:
    """A whole-value placeholder takes the type of its text: ``2`` is a number, ``true`` a bool.

    Only numbers and ``true``/``false`` convert; ``off`` or ``no`` stay strings.
    """
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _unresolved(node: Any) -> Iterator[Unresolved]:
    if isinstance(node, Unresolved):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _unresolved(value)
    elif isinstance(node, list):
        for value in node:
            yield from _unresolved(value)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _expected(error: Any) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"unknown key {', '.join(map(repr, extra))} (expected one of: {', '.join(allowed)})"
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"expected {wanted}, got {type(error.instance).__name__} {_preview(error.instance)}"
    if error.validator == "required":
        return f"expected {error.message}"
    if error.validator == "enum":
        return f"expected one of {error.validator_value}, got {_preview(error.instance)}"
    return f"expected {error.message}"


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
