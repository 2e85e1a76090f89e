"""Secret values and their redaction from every output the plugin writes."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from pytest_wimmelgate.config.credentials import auth_token, parse_header_list, parse_uri

SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASS|CREDENTIAL|HEADERS|AUTH|PRIVATE", re.I)
NOT_SECRET_NAMES = frozenset({"AWS_ACCESS_KEY_ID_FINGERPRINT", "PYTEST_ADDOPTS", "KEYBOARD"})
MASK = "***"
MIN_LENGTH = 4


def looks_secret(name: str) -> bool:
    """Whether a variable or key name suggests its value is a secret."""
    return bool(SECRET_NAME.search(name)) and name.upper() not in NOT_SECRET_NAMES


def uri_secrets(value: str) -> list[str]:
    """The secret parts of a ``scheme://user:pass@host`` value: the password and the
    user-info, as written and URL-decoded. Works for multi-host MongoDB URIs too."""
    uri = parse_uri(value)
    if uri is None or not uri.has_password:
        return []
    parts = {uri.password_raw, uri.password, uri.userinfo_raw, uri.userinfo}
    return [p for p in parts if p]


def secret_parts(name: str, value: str) -> set[str]:
    """Every text of one variable that must be hidden (empty for a public variable)."""
    found: set[str] = set()
    if not value:
        return found
    if looks_secret(name):
        found.update({value, value.strip()})
    found.update(uri_secrets(value))
    found.update(_header_values(value))
    return found


class SecretSet:
    """The values to hide, longest first so that a value hiding a shorter one wins.

    One instance per process serves every output; `add` lets values captured at run time
    (session tokens) join it the moment they are known, so everything written afterwards
    is redacted too.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.values: tuple[str, ...] = tuple(values)

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
            found.update(secret_parts("SECRET", value))
        for name, value in variables.items():
            found.update(secret_parts("SECRET" if name in names else name, value))
        return cls.of(found)

    @classmethod
    def of(cls, values: Iterable[str]) -> SecretSet:
        return cls(_variants(values))

    def add(self, *values: str) -> None:
        """Hide these values too, from now on, in every output that uses this set."""
        fresh = set(_variants(values)) - set(self.values)
        if fresh:
            with self._lock:
                self.values = tuple(sorted({*self.values, *fresh}, key=lambda v: (-len(v), v)))

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


def _variants(values: Iterable[str]) -> tuple[str, ...]:
    variants: set[str] = set()
    for value in values:
        if len(value) < MIN_LENGTH:
            continue
        variants.update({value, quote(value, safe=""), quote_plus(value)})
    return tuple(sorted(variants, key=lambda v: (-len(v), v)))


def _header_values(value: str) -> list[str]:
    """Values of secret-named headers in an OTLP-style list ``k=v,k2=v2``, as written and
    URL-decoded, with the token of ``Bearer x`` (any case of any known scheme) also as ``x``.

    ``Authorization=bearer%20abc,x-scope=prod`` yields the token, never ``prod``.
    """
    if "=" not in value:
        return []
    found: list[str] = []
    for header in parse_header_list(value).headers:
        if not header.value or not looks_secret(header.name):
            continue
        found.extend((header.raw_value, header.value))
        token = auth_token(header.value)
        if token:
            found.append(token)
    return found
