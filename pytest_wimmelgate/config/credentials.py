"""The one parser of credential-bearing texts: URIs with userinfo, header lists, auth values.

Every module that looks inside such a value uses these three functions, so they agree on
the rules (the copies that drifted let ``authorization=bearer%20<token>`` pass one check
and escape redaction in another):

- `parse_uri` — ``scheme://user:pass@host1[:port],host2/path?query`` (multi-host MongoDB
  URIs included) → `ParsedUri` with user name and password both decoded and as written.
  RFC 3986: the authority ends at the first ``/``, ``?`` or ``#``; the user-info is what
  precedes the authority's last ``@``, so reserved characters in it must be percent-encoded.
- `parse_header_list` — an OTLP-style list ``k=v,k2=v2`` (``OTEL_EXPORTER_OTLP_HEADERS``)
  → `HeaderList`; keys and values percent-decoded and stripped, keys compared
  case-insensitively, a later duplicate wins, members without ``=`` are reported by position.
- `split_authorization` / `auth_token` — the scheme and token of an ``Authorization``
  value; schemes compare case-insensitively (``Bearer``, ``bearer``, ``BASIC`` …).
  `basic_credentials` decodes the token of ``Basic``.

Nothing here raises on odd input: a text that is not of the kind gives ``None`` or an
empty result, and no function's result quotes more of the input than it parsed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

AUTH_SCHEMES = frozenset({"basic", "bearer", "token", "apikey", "oauth", "digest", "negotiate"})
"""Authorization schemes whose second word is a credential (compared lower-cased)."""


@dataclass(frozen=True)
class ParsedUri:
    """A URI split into the parts that matter for credentials.

    ``username``/``password`` are percent-decoded; ``*_raw`` are as written. ``hosts`` are
    the authority's comma-separated entries as written (``h1:27017``); ``host_names`` the
    lower-cased, decoded names without port. ``path`` keeps its leading ``/``; ``query``
    is the raw text after ``?`` (without the ``#`` fragment).
    """

    scheme: str
    username: str
    password: str
    username_raw: str
    password_raw: str
    has_userinfo: bool
    has_password: bool
    hosts: tuple[str, ...]
    path: str
    query: str

    @property
    def userinfo_raw(self) -> str:
        """``user:pass`` as written (``user`` alone when there is no password)."""
        return f"{self.username_raw}:{self.password_raw}" if self.has_password else self.username_raw

    @property
    def userinfo(self) -> str:
        """``user:pass`` decoded."""
        return f"{self.username}:{self.password}" if self.has_password else self.username

    @property
    def host_names(self) -> tuple[str, ...]:
        names = []
        for entry in self.hosts:
            if entry.startswith("["):
                host = entry[1:].split("]", 1)[0]
            else:
                host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
            if host:
                names.append(unquote(host).lower())
        return tuple(names)

    @property
    def database(self) -> str:
        """The decoded path without its leading ``/`` (a MongoDB URI's database)."""
        return unquote(self.path[1:] if self.path.startswith("/") else self.path)


def parse_uri(value: str) -> ParsedUri | None:
    """Split ``scheme://[user[:pass]@]hosts[/path][?query]``; None without ``scheme://``."""
    scheme, sep, rest = value.strip().partition("://")
    if not sep or not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
        return None
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostpart = authority.rpartition("@")
    tail = tail.split("#", 1)[0]
    path, _, query = tail.partition("?")
    user_raw, colon, password_raw = userinfo.partition(":")
    return ParsedUri(
        scheme=scheme.lower(),
        username=unquote(user_raw),
        password=unquote(password_raw),
        username_raw=user_raw,
        password_raw=password_raw,
        has_userinfo=bool(at),
        has_password=bool(at and colon),
        hosts=tuple(h.strip() for h in hostpart.split(",") if h.strip()),
        path=path,
        query=query,
    )


@dataclass(frozen=True)
class Header:
    """One ``key=value`` member: ``name`` and ``value`` decoded and stripped, ``raw_value`` as written."""

    name: str
    value: str
    raw_value: str

    @property
    def key(self) -> str:
        """The name lower-cased: how header names compare."""
        return self.name.lower()


@dataclass(frozen=True)
class HeaderList:
    """The members of a header list in order, and the 1-based positions of malformed ones."""

    headers: tuple[Header, ...]
    malformed: tuple[int, ...] = ()

    def get(self, name: str) -> Header | None:
        """The last member named ``name`` (case-insensitive), or None."""
        wanted = name.strip().lower()
        return next((h for h in reversed(self.headers) if h.key == wanted), None)

    def as_dict(self) -> dict[str, str]:
        """Name → decoded value, a later duplicate (any case) replacing an earlier one."""
        merged: dict[str, tuple[str, str]] = {}
        for header in self.headers:
            merged[header.key] = (header.name, header.value)
        return dict(merged.values())


def parse_header_list(text: str) -> HeaderList:
    """Parse ``k=v,k2=v2``; empty members are skipped, ones without ``=`` or a key are malformed."""
    headers: list[Header] = []
    malformed: list[int] = []
    for position, member in enumerate(text.split(","), start=1):
        if not member.strip():
            continue
        key, eq, raw = member.partition("=")
        name = unquote(key).strip()
        if not eq or not name:
            malformed.append(position)
            continue
        headers.append(Header(name=name, value=unquote(raw).strip(), raw_value=raw.strip()))
    return HeaderList(tuple(headers), tuple(malformed))


@dataclass(frozen=True)
class Authorization:
    """An ``Authorization`` value split into its scheme (as written) and its credential."""

    scheme: str
    token: str

    def is_scheme(self, name: str) -> bool:
        return self.scheme.lower() == name.strip().lower()


def split_authorization(value: str) -> Authorization | None:
    """``Bearer abc`` → ``Authorization("Bearer", "abc")``; None for a value of one word."""
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if not scheme or not token:
        return None
    return Authorization(scheme=scheme, token=token)


def auth_token(value: str, scheme: str | None = None) -> str | None:
    """The credential of an ``Authorization`` value whose scheme is ``scheme`` (any case),
    or, without ``scheme``, one of `AUTH_SCHEMES`; None otherwise."""
    parsed = split_authorization(value)
    if parsed is None:
        return None
    if scheme is not None:
        return parsed.token if parsed.is_scheme(scheme) else None
    return parsed.token if parsed.scheme.lower() in AUTH_SCHEMES else None


def basic_credentials(token: str) -> tuple[str, str] | None:
    """``(user, password)`` from the base64 token of ``Basic``; None if it does not decode."""
    padded = token.strip() + "=" * (-len(token.strip()) % 4)
    try:
        text = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, colon, password = text.partition(":")
    return (user, password) if colon else None
