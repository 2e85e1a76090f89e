"""Secret values and their redaction from every output the plugin writes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASSWORD|PASSWD|PASS\b|CREDENTIAL|HEADERS|AUTH", re.I)
NOT_SECRET_NAMES = frozenset({"AWS_ACCESS_KEY_ID_FINGERPRINT", "PYTEST_ADDOPTS", "KEYBOARD"})
MASK = "***"
MIN_LENGTH = 4


def looks_secret(name: str) -> bool:
    """Whether a variable or key name suggests its value is a secret."""
    return bool(SECRET_NAME.search(name)) and name.upper() not in NOT_SECRET_NAMES


def uri_credentials(value: str) -> list[str]:
    """The user-info password (and the full user-info) inside a URI, if any."""
    if "://" not in value or "@" not in value:
        return []
    try:
        parts = urlsplit(value)
    except ValueError:
        return []
    found = [p for p in (parts.password,) if p]
    if parts.username and parts.password:
        found.append(f"{parts.username}:{parts.password}")
    return found


@dataclass(frozen=True)
class SecretSet:
    """The values to hide, longest first so that a value hiding a shorter one wins."""

    values: tuple[str, ...] = ()

    @classmethod
    def collect(
        cls,
        variables: Mapping[str, str],
        *,
        extra_names: Iterable[str] = (),
        extra_values: Iterable[str] = (),
    ) -> SecretSet:
        names = set(extra_names)
        found: set[str] = set()
        for value in extra_values:
            if value:
                found.add(value)
                found.update(_header_values(value))
                found.update(uri_credentials(value))
        for name, value in variables.items():
            if not value:
                continue
            if name in names or looks_secret(name):
                found.add(value)
                found.update(_header_values(value))
            found.update(uri_credentials(value))
        return cls.of(found)

    @classmethod
    def of(cls, values: Iterable[str]) -> SecretSet:
        variants: set[str] = set()
        for value in values:
            if len(value) < MIN_LENGTH:
                continue
            variants.update({value, quote(value, safe=""), quote_plus(value)})
        return cls(tuple(sorted(variants, key=len, reverse=True)))

    def __add__(self, other: SecretSet) -> SecretSet:
        return SecretSet.of((*self.values, *other.values))

    def redact(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def redact_bytes(self, body: bytes) -> bytes:
        if not self.values:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._redact_raw(body)
        return self.redact(text).encode("utf-8")

    def redact_tree(self, node: Any) -> Any:
        """A copy of a JSON-like tree with every string redacted."""
        if not self.values:
            return node
        if isinstance(node, str):
            return self.redact(node)
        if isinstance(node, Mapping):
            return {self.redact(str(k)): self.redact_tree(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [self.redact_tree(v) for v in node]
        return node

    def _redact_raw(self, body: bytes) -> bytes:
        for value in self.values:
            raw = value.encode("utf-8")
            if raw in body:
                body = body.replace(raw, MASK.encode())
        return body


def _header_values(value: str) -> list[str]:
    """Values of secret-named headers in an OTLP-style list ``k=v,k2=v2`` (``Bearer x`` also as ``x``).

    ``Authorization=Bearer%20abc,x-scope=prod`` yields the token, never ``prod``.
    """
    if "=" not in value:
        return []
    found: list[str] = []
    for pair in value.split(","):
        name, _, item = pair.partition("=")
        item = item.strip()
        if item and looks_secret(name.strip()):
            found.append(item)
            for prefix in ("Bearer ", "Bearer%20", "Token token=", "ApiKey ", "OAuth "):
                if item.startswith(prefix):
                    found.append(item[len(prefix):])
    return found
