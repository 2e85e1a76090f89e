"""`Node`: typed reads from one resolved section, with its key path for every error.

A section parser walks its section through a `Node` (``node.text("url")``,
``node.number("timeout_s", 5, above=0)``), so every section words a mistake the same way
(`pytest_wimmelgate.config.fields`), names the file and key path, and never shows a value.
A value made from ``${VAR}`` placeholders names its variables instead (``(from ${LOGS_URL})``),
so an empty CI variable is found at start, not as a crash inside a check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pytest_wimmelgate.config import fields
from pytest_wimmelgate.config.environment import origin_of
from pytest_wimmelgate.errors import ConfigError, NotConfigured

_MISSING: Any = object()


class Node:
    """A mapping of a resolved environment section, read key by key."""

    def __init__(self, value: Any, source: str, path: str) -> None:
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(source, path, f"expected a mapping, got {type(value).__name__}")
        self.value: Mapping[str, Any] = value
        self.source = source
        self.path = path

    def __contains__(self, key: str) -> bool:
        return key in self.value and self.value[key] is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.value)

    def where(self, key: str) -> str:
        return fields.key_path(self.path, key)

    def error(self, key: str, expected: str) -> ConfigError:
        """A `ConfigError` at ``key``, naming the variables the value came from."""
        return ConfigError(self.source, self.where(key), expected + origin_of(self.value.get(key)))

    def only(self, allowed: Iterable[str]) -> None:
        """Refuse keys outside ``allowed``, in the one wording of an unknown key."""
        fields.check_keys(self.value, allowed, self.source, self.path)

    def raw(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default)

    def child(self, key: str) -> Node:
        return Node(self.value.get(key), self.source, self.where(key))

    def text(self, key: str, default: Any = _MISSING, *, empty: bool = False) -> str:
        """A text; absent uses ``default`` (none: an error); empty is an error unless ``empty``."""
        value = self.value.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(key, "expected a value (the key is missing)")
            return str(default)
        if isinstance(value, (dict, list)):
            raise self.error(key, f"expected a text, got a {'mapping' if isinstance(value, dict) else 'list'}")
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if getattr(value, "absent", False) and not empty:
            raise NotConfigured(self.where(key))  # ${VAR:-} left empty on purpose: this system is not here
        if not empty and not text.strip():
            raise self.error(key, "expected a non-empty value, got an empty one")
        return text

    def optional_text(self, key: str) -> str | None:
        """A text, or None when the key is absent or left empty on purpose (``""``, ``${VAR:-}``)."""
        value = self.value.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.text(key)

    def url(self, key: str, default: Any = _MISSING, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
        """An absolute URL with one of ``schemes``."""
        text = self.text(key, default)
        from urllib.parse import urlsplit

        parts = urlsplit(text.strip())
        if parts.scheme not in schemes or not parts.netloc:
            raise self.error(key, f"expected an absolute {'/'.join(schemes)} URL")
        return text.strip()

    def optional_url(self, key: str) -> str | None:
        return self.url(key) if self.optional_text(key) is not None else None

    def number(self, key: str, default: Any = _MISSING, *, above: float | None = None) -> float:
        value = self.value.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(key, "expected a number (the key is missing)")
            return float(default)
        bound = f" above {above:g}" if above is not None else ""
        return fields.number(
            value, self.source, self.where(key), f"expected a number{bound}" + origin_of(value), above=above
        )

    def seconds(self, key: str, default: Any = _MISSING) -> float:
        """A duration in seconds, above zero."""
        return self.number(key, default, above=0)

    def whole(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> int:
        value = self.value.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(key, "expected a whole number (the key is missing)")
            return int(default)
        bound = f" of at least {minimum}" if minimum is not None else ""
        return fields.whole_number(
            value, self.source, self.where(key), f"expected a whole number{bound}" + origin_of(value), minimum=minimum
        )

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.value.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.error(key, "expected true or false")

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        text = self.text(key, default)
        if text not in choices:
            raise self.error(key, f"expected one of {', '.join(choices)}")
        return text

    def texts(self, key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = self.value.get(key)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            raise self.error(key, "expected a list of texts")
        return tuple(str(v) for v in value)
