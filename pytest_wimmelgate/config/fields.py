"""Field checks shared by the section parsers, so every section words a mistake the same way.

Each helper raises `ConfigError(source, key_path, expected)` and never quotes the value it
rejects (a value may be a secret). An unknown key reads
``unknown key 'x' (expected one of: a, b, c)``, the wording of the JSON Schema check in
`pytest_wimmelgate.config.environment`; its key path names the unknown key itself.

Numbers are accepted as YAML numbers or as texts that spell one (``"24"``, ``"0.5"``): a
``${VAR}`` placeholder always resolves to a text. A boolean is never a number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_wimmelgate.errors import ConfigError

_WHOLE = re.compile(r"[+-]?\d+")


def key_path(path: str, key: object) -> str:
    """``path.key``; just ``key`` at the top level."""
    return f"{path}.{key}" if path else str(key)


def unknown_key_message(keys: Iterable[object], allowed: Iterable[str]) -> str:
    """The one wording for keys a mapping does not know."""
    return f"unknown key {', '.join(map(repr, keys))} (expected one of: {', '.join(sorted(allowed))})"


def check_keys(mapping: Mapping[Any, Any], allowed: Iterable[str], source: str, path: str) -> None:
    """Raise on the first key of ``mapping`` that is not in ``allowed``."""
    known = tuple(allowed)
    for key in mapping:
        if key not in known:
            raise ConfigError(source, key_path(path, key), unknown_key_message([key], known))


def as_number(value: Any) -> float | None:
    """A finite number from a YAML number or a text that spells one; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_whole_number(value: Any) -> int | None:
    """A whole number from a YAML integer or a text of digits (``"7"``); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def number(
    value: Any,
    source: str,
    path: str,
    expected: str,
    *,
    above: float | None = None,
    at_most: float | None = None,
) -> float:
    """A number (see `as_number`) with ``value > above`` and ``value <= at_most`` when given."""
    found = as_number(value)
    if found is None or (above is not None and found <= above) or (at_most is not None and found > at_most):
        raise ConfigError(source, path, expected)
    return found


def whole_number(
    value: Any,
    source: str,
    path: str,
    expected: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number (see `as_whole_number`) within ``[minimum, maximum]`` when given."""
    found = as_whole_number(value)
    if found is None or (minimum is not None and found < minimum) or (maximum is not None and found > maximum):
        raise ConfigError(source, path, expected)
    return found
