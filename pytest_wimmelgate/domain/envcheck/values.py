"""Value heuristics of EV-2, EV-5 and EV-6: placeholders, character classes, URLs, tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from pytest_wimmelgate.config.credentials import auth_token, parse_header_list

PLACEHOLDERS = frozenset(
    {
        "changeme",
        "changeit",
        "secret",
        "password",
        "passwd",
        "yoursecrethere",
        "yoursecret",
        "mysecret",
        "supersecret",
        "secretkey",
        "authsecret",
        "token",
        "apikey",
        "default",
        "example",
        "test",
        "testing",
        "dummy",
        "placeholder",
        "replaceme",
        "todo",
        "tbd",
        "fixme",
        "none",
        "null",
        "undefined",
        "empty",
        "abc",
        "abcdef",
        "abcdefgh",
        "letmein",
        "admin",
        "qwerty",
        "foobar",
        "foo",
        "bar",
    }
)
#: placeholder words that mark a value even inside a longer text (normalised, see below).
_PLACEHOLDER_PARTS = (
    "changeme",
    "replaceme",
    "yoursecret",
    "placeholder",
    "secrethere",
    "insertyour",
    "putyour",
    "notasecret",
    "notsecret",
    "example",
    "dummy",
    "xxxxx",
)
_TEMPLATE = re.compile(r"^\s*(<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Za-z_]+%)\s*$")


def char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters ``value`` uses."""
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )


def is_placeholder(value: str, extra: Sequence[str] = ()) -> bool:
    """Whether ``value`` looks like a placeholder rather than a real secret.

    Known words (``changeme``, ``secret``, ``your-secret-here`` ...), template syntax
    (``<...>``, ``${...}``, ``{{...}}``), a text built from one repeated short unit
    (``xxxxxxxx``, ``abcabcabc``), a plain ascending run (``0123456789``, ``abcdef...``),
    or a text containing a placeholder word (``please-changeme-...``).
    """
    if _TEMPLATE.match(value):
        return True
    norm = re.sub(r"[^a-z0-9]", "", value.lower())
    if not norm:
        return True
    extra_norm = {re.sub(r"[^a-z0-9]", "", e.lower()) for e in extra}
    if norm in PLACEHOLDERS or norm in extra_norm:
        return True
    if any(part in norm for part in _PLACEHOLDER_PARTS):
        return True
    for unit in range(1, 5):
        if len(norm) >= 2 * unit and norm == (norm[:unit] * (len(norm) // unit + 1))[: len(norm)]:
            return True
    runs = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2)
    return len(norm) >= 6 and any(norm in run for run in runs)


def is_url(value: str, schemes: Sequence[str] = ("http", "https")) -> bool:
    """Whether ``value`` is a URL with one of ``schemes``, a host and a valid port."""
    try:
        parts = urlsplit(value.strip())
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme.lower() in schemes and bool(parts.hostname) and " " not in value.strip()


def otel_token_problem(headers: str, header: str = "Authorization", scheme: str = "Bearer") -> str | None:
    """What is wrong with the token entry in an OTLP headers value, or None if it is fine.

    Header names and the scheme compare case-insensitively (`pytest_wimmelgate.config.credentials`).
    """
    entry = parse_header_list(headers).get(header)
    if entry is None:
        return f"has no {header} entry"
    if scheme:
        if entry.value.split(" ", 1)[0].lower() != scheme.strip().lower():
            return f"{header} entry is not '{scheme} <token>'"
        token = auth_token(entry.value, scheme) or ""
    else:
        token = entry.value
    if not token:
        return f"{header} token is empty"
    if is_placeholder(token):
        return f"{header} token is a placeholder"
    return None
