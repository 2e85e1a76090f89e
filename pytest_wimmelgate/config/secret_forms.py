"""Every text in which a secret value can reach an output: its derived forms.

`derive_forms` maps each form to the name of its encoding (the leak scan reports that
name, never the text): the value as written, percent-encoded in every common variant,
base64 at each alignment it can have inside a longer encoded text (so ``Basic
base64(user:secret)`` is found whoever the user is) and of explicit ``user:secret``
pairs, JSON-, Python-repr- and XML-escaped (also two escapes deep: a JSON body shown in a
repr), and each line of a multi-line value (PEM keys; armour lines are public). Forms
shorter than `MIN_LENGTH` are never patterns; `too_short` tells which values give none.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote, quote_plus

MIN_LENGTH = 6
"""Shorter values are not redacted (masking them would hide ordinary words); `too_short`."""

PLAIN = "plain"
_HEX_ESCAPE = re.compile(r"%[0-9a-f][0-9A-Fa-f]|%[0-9A-F][a-f]")
"""A percent-escape with a lower-case hex digit: texts are scanned with these upper-cased
too (same length, same positions), so forms need only upper-case hex."""
_PERCENT_STYLES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("percent-encoded", lambda v: quote(v, safe="")),
    ("percent-encoded, / kept", lambda v: quote(v, safe="/")),
    ("percent-encoded (JavaScript encodeURIComponent)", lambda v: quote(v, safe="!'()*")),
    ("form-encoded (quote_plus)", lambda v: quote_plus(v, safe="")),
    ("form-encoded (quote_plus), / kept", lambda v: quote_plus(v, safe="/")),
)


def too_short(value: str) -> bool:
    """Whether a secret is too short to be redacted safely (it is not used as a pattern)."""
    return 0 < len(value.strip()) < MIN_LENGTH


def derive_forms(value: str, users: Iterable[str] = ()) -> dict[str, str]:
    """Every text in which ``value`` can reach an output, mapped to the name of its form.

    Forms shorter than `MIN_LENGTH` are left out; a `too_short` value gives none.
    """
    if too_short(value) or not value.strip():
        return {}
    forms: dict[str, str] = {}
    _single_forms(value, forms, prefix="")
    for user in users:
        pair = f"{user}:{value}".encode()
        for name, encoded in (("base64", base64.b64encode(pair)), ("URL-safe base64", base64.urlsafe_b64encode(pair))):
            text = encoded.decode("ascii")
            forms.setdefault(text, f"{name} of user:secret")
            forms.setdefault(text.rstrip("="), f"{name} of user:secret")
    lines = [line.strip() for line in value.splitlines()]
    if len(lines) > 1:
        for line in lines:
            if len(line) >= MIN_LENGTH and not line.startswith("-----"):  # PEM armour lines are public
                _single_forms(line, forms, prefix="line of a multi-line value, ", base64_too=False)
        crlf = value.replace("\r\n", "\n").replace("\n", "\r\n")
        forms.setdefault(crlf, "multi-line value with CRLF")
        forms.setdefault(json.dumps(crlf)[1:-1], "JSON-escaped multi-line value with CRLF")
    return {text: name for text, name in forms.items() if len(text) >= MIN_LENGTH}


def _single_forms(value: str, forms: dict[str, str], *, prefix: str, base64_too: bool = True) -> None:
    forms.setdefault(value, prefix + PLAIN)
    for name, encode in _PERCENT_STYLES:
        encoded = encode(value)
        forms.setdefault(encoded, prefix + name)
        if encoded != value:  # a URL lower-cased whole (some proxies and log pipelines do)
            forms.setdefault(upper_hex(encoded.lower()), f"{prefix}{name}, lowercased")
    for text, name in _escaped(value):
        forms.setdefault(text, prefix + name)
    if base64_too:
        json_escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        for source in {value, json_escaped}:  # a JSON body is often base64-encoded whole
            for text, name in _base64_cores(source.encode("utf-8")):
                forms.setdefault(text, prefix + name)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def upper_hex(text: str) -> str:
    """``text`` with the hex digits of its percent-escapes upper-cased (same length, same positions)."""
    return _HEX_ESCAPE.sub(lambda m: m.group().upper(), text)


_ESCAPES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("JSON-escaped", lambda v: json.dumps(v)[1:-1]),
    ("JSON-escaped", lambda v: json.dumps(v, ensure_ascii=False)[1:-1]),
    ("Python repr", lambda v: repr(v)[1:-1]),
    ("Python repr", lambda v: ascii(v)[1:-1]),
    ("Python repr", lambda v: v.encode("unicode_escape").decode("ascii").replace("'", "\\'")),
    ("XML-escaped", lambda v: _xml_escape(v).replace('"', "&quot;").replace("'", "&apos;")),
    ("XML-escaped", lambda v: _xml_escape(v).replace('"', "&quot;").replace("\n", "&#10;")),
)


def _escaped(value: str) -> Iterator[tuple[str, str]]:
    """Each escaping of ``value``, and each escaping of an escaped form (a JSON body shown
    in a repr, a repr inside a JSON or XML report)."""
    once = [(name, escape(value)) for name, escape in _ESCAPES]
    yield from ((text, name) for name, text in once)
    for first, text in once:
        if text == value:
            continue
        for second, escape in _ESCAPES:
            yield escape(text), f"{first}, then {second}"


def _base64_cores(raw: bytes) -> Iterator[tuple[str, str]]:
    """The base64 characters that only ``raw`` decides, at each of the three alignments
    it can have inside a longer encoded text (standard and URL-safe alphabets).

    ``base64(x + raw + y)`` contains one of these whatever ``x`` and ``y`` are, so
    ``Basic base64(user:secret)`` is found without knowing the user.
    """
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        start = -(-8 * offset // 6)  # first character not touched by the prefix
        end = (8 * (offset + len(raw))) // 6  # last character not touched by what follows
        core = encoded[start:end]
        yield core, "base64"
        yield core.replace("+", "-").replace("/", "_"), "URL-safe base64"
