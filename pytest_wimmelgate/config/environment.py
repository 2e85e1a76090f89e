"""Environment files: load, extend, validate the shape, interpolate ``${VAR}``.

An environment file describes one target (sandbox, staging, production): endpoints,
runbook limits, windows, waivers. Placeholders ``${VAR}`` and ``${VAR:-default}`` are
resolved from the process environment (read once, when the file is loaded) plus values
the run provides (the sandbox's URLs). A placeholder keeps the text it resolves to: a
numeric password stays a string, ``true`` stays the command ``true``; the typed section
parsers (`config.sections`) turn text into numbers where a number is meant. Only the
sections the selected checks read are resolved, so a run needs only their variables.

The JSON Schema checks the file's shape before anything is resolved: unknown keys, and
the types of values written literally. A value holding a placeholder is typed by its
section's parser once resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config import yamlfile
from pytest_wimmelgate.config.fields import unknown_key_message
from pytest_wimmelgate.errors import ConfigError, NotConfigured

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
BUILTIN_NAMES = ("sandbox", "staging", "production")


class Text(str):
    """A string that came from ``${VAR}`` placeholders; names them for error messages (never the value)."""

    variables: tuple[str, ...] = ()
    #: empty because every placeholder fell back to an empty default (``${VAR:-}``): "not configured"
    absent: bool = False

    @classmethod
    def of(cls, text: str, variables: Iterable[str], *, absent: bool = False) -> Text:
        made = cls(text)
        made.variables = tuple(variables)
        made.absent = absent
        return made


def origin_of(value: Any) -> str:
    """`` (from ${VAR})`` for a value resolved from placeholders, else ``""``: for error messages."""
    names = getattr(value, "variables", ())
    return f" (from {', '.join('${' + n + '}' for n in names)})" if names else ""


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
    #: the process environment, read once when the file was loaded
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def protected(self) -> bool:
        return bool(self.raw.get("protected", False))

    def with_variables(self, extra: Mapping[str, str]) -> Environment:
        """The same file with more interpolation values (e.g. the sandbox's URLs)."""
        merged = {**self.variables, **extra}
        return Environment(self.name, self.source, self.origin, self.raw, merged, self.environ)

    @property
    def values(self) -> dict[str, str]:
        """Every interpolation value: the process environment plus what the run provides."""
        return {**self.environ, **self.variables}

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
        value = _resolve(raw, key_path, self.values)
        problems = list(_unresolved(value))
        if problems:
            first = problems[0]
            raise ConfigError(
                self.source,
                first.key_path,
                f"variable ${{{first.variable}}} is not set (set it, or give a default: ${{{first.variable}:-...}})",
            )
        return value

    def mentions(self, section: str, prefix: str) -> bool:
        """Whether ``section`` holds a placeholder of a variable named ``prefix…`` (e.g. ``SANDBOX_``)."""
        if not self.has(section):
            return False
        return any(name.startswith(prefix) for name in _placeholders(self._raw_at(section)))

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
    spec: str,
    *,
    rootdir: Path,
    origin: str = "default",
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """Load, merge (``extends``) and validate the shape of an environment file.

    ``environ`` is the process environment to interpolate from (default: ``os.environ``,
    read now, once).
    """
    import os

    path = locate(spec, rootdir)
    raw = _load_merged(path, chain=())
    env = Environment(
        name=str(raw.get("name") or path.stem),
        source=_display(path),
        origin=origin,
        raw=raw,
        variables=dict(variables or {}),
        environ=dict(os.environ if environ is None else environ),
    )
    validate(env)
    return env


def validate(env: Environment) -> None:
    """Check the file's shape against the shipped JSON Schema; the first error is a `ConfigError`.

    Values written as placeholders are not type-checked here (their text is known only
    once resolved; the section parsers type them). Error messages never show a value.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(env.raw), key=lambda e: list(e.absolute_path))
    for error in errors:
        if isinstance(error.instance, str) and "${" in error.instance and error.validator != "additionalProperties":
            continue
        raise ConfigError(env.source, _key_path(error.absolute_path), _expected(error))


def schema() -> dict[str, Any]:
    """The JSON Schema of environment files, assembled from each section's fragment beside its
    parser (`pytest_wimmelgate.config.schema_parts`)."""
    from pytest_wimmelgate.config.schema_parts import assembled

    return assembled()


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
    missing: list[str] = []
    used: list[str] = []
    given: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        used.append(name)
        value = variables.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                missing.append(name)
                return ""
            return default
        given.append(name)
        return value

    result = PLACEHOLDER.sub(substitute, text)
    if missing:
        return Unresolved(missing[0], key_path)
    return Text.of(result, used, absent=not result and not given)


def _placeholders(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _placeholders(value)
    elif isinstance(node, list):
        for value in node:
            yield from _placeholders(value)
    elif isinstance(node, str):
        yield from (match.group(1) for match in PLACEHOLDER.finditer(node))


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
    """What the schema expected, in one wording per kind; never the value found (it may be a secret)."""
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return unknown_key_message(extra, allowed)
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"expected {wanted}, got {_kind(error.instance)}"
    if error.validator == "required":
        return f"expected {error.message}"
    if error.validator == "enum":
        return f"expected one of {', '.join(map(str, error.validator_value))}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return f"expected a number {_BOUNDS[error.validator]} {error.validator_value}"
    if error.validator in ("minItems", "minLength"):
        return (
            f"expected at least {error.validator_value} {'item' if error.validator == 'minItems' else 'character'}(s)"
        )
    return f"expected a value matching the schema ({error.validator})"


_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _kind(value: Any) -> str:
    """The type of a value as YAML users name it, without the value."""
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
