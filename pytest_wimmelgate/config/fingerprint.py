"""Short keyed fingerprints of values, so environments can be compared without showing them.

``fingerprint(value, key)`` is the first 12 hex characters of HMAC-SHA256(key, value).
Two environments are compared by fingerprint (EV-4, EV-6): the environment file lists the
fingerprints of the *other* environment's values, and a run computes the fingerprints of
its own values with the same key.

The key comes from the environment variable ``WIMMELGATE_FINGERPRINT_KEY``; without it the
documented default ``DEFAULT_KEY`` is used. The default is public, so a fingerprint made
with it only hides values that are long and random (tokens, secrets, passwords of real
strength); set ``WIMMELGATE_FINGERPRINT_KEY`` in CI (a CI secret shared by the jobs that
produce and compare fingerprints) to make fingerprints of weak values useless to a reader.

Besides a whole value, parts of it are fingerprinted (:func:`value_parts`): the password
inside a URI with credentials, each host of a MongoDB URI, each value in an OTLP headers list and
the bare token of ``Bearer <token>``. So a staging password copied into a production URI
with different hosts, or a staging token written with different header spelling, still
matches.

Make the fingerprints for an environment file with
``python -m pytest_wimmelgate.config.fingerprint [--dotenv FILE] NAME...`` (values from the
process environment or the dotenv file; only names, parts and fingerprints are printed).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

ENV_VAR = "WIMMELGATE_FINGERPRINT_KEY"
DEFAULT_KEY = "wimmelgate-fingerprint-v1"
LENGTH = 12


def fingerprint_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The run's fingerprint key: ``$WIMMELGATE_FINGERPRINT_KEY`` or ``DEFAULT_KEY``."""
    env = os.environ if environ is None else environ
    return (env.get(ENV_VAR) or DEFAULT_KEY).encode("utf-8")


def fingerprint(value: str, key: str | bytes) -> str:
    """First 12 hex characters of HMAC-SHA256 over the UTF-8 ``value`` with ``key``."""
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(raw_key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:LENGTH]


def uri_credentials(value: str) -> tuple[str, str] | None:
    """``(user, password)`` of a ``scheme://user:pass@host`` value, URL-decoded; else None.

    Works for multi-host MongoDB URIs too (the netloc is split at its last ``@``).
    """
    if "://" not in value:
        return None
    netloc = value.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _hosts = netloc.rpartition("@")
    if not at or not userinfo:
        return None
    user, _, password = userinfo.partition(":")
    return unquote(user), unquote(password)


def uri_hosts(value: str) -> list[str]:
    """Lower-cased host names of a ``scheme://[cred@]h1[:p],h2/...`` value (no ports)."""
    if "://" not in value:
        return []
    netloc = value.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    hosts = netloc.rpartition("@")[2]
    names = []
    for entry in hosts.split(","):
        entry = entry.strip()
        if entry.startswith("["):
            host = entry[1:].split("]", 1)[0]
        else:
            host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        if host:
            names.append(unquote(host).lower())
    return names


def header_values(value: str) -> list[str]:
    """Values of an OTLP-style header list ``k=v,k2=v2`` (URL-decoded, stripped)."""
    values = []
    for item in value.split(","):
        _k, eq, v = item.partition("=")
        if eq and v.strip():
            values.append(unquote(v).strip())
    return values


def value_parts(name: str, value: str) -> list[tuple[str, str]]:
    """``(part label, text)`` pairs worth fingerprinting for one variable.

    Always the whole value; for URIs the password, for MongoDB URIs every host (a
    database cluster is never shared between environments, a SaaS log or OTLP endpoint
    may be); for header lists
    (names ending in ``HEADERS``) each header value and a bearer token inside it.
    """
    parts: list[tuple[str, str]] = []
    if value:
        parts.append(("value", value))
    creds = uri_credentials(value)
    if creds and creds[1]:
        parts.append(("uri password", creds[1]))
    if value.lower().startswith(("mongodb://", "mongodb+srv://")):
        for host in uri_hosts(value):
            parts.append((f"uri host {host}", host))
    if name.upper().endswith("HEADERS"):
        for header in header_values(value):
            parts.append(("header value", header))
            scheme, _, token = header.partition(" ")
            if token.strip() and scheme.lower() in ("bearer", "basic", "token"):
                parts.append(("header token", token.strip()))
    seen: set[str] = set()
    unique = []
    for label, text in parts:
        if text not in seen:
            seen.add(text)
            unique.append((label, text))
    return unique


def main(argv: Sequence[str] | None = None) -> int:
    """Print ``NAME part: fingerprint`` lines for the given variable names."""
    args = list(sys.argv[1:] if argv is None else argv)
    variables: Mapping[str, str] = os.environ
    if args[:1] == ["--dotenv"] and len(args) >= 2:
        from pytest_wimmelgate.config.dotenv import load_dotenv

        variables = load_dotenv(args[1])
        args = args[2:]
    if not args:
        print("usage: python -m pytest_wimmelgate.config.fingerprint [--dotenv FILE] NAME...")
        return 4
    key = fingerprint_key()
    for name in args:
        value = variables.get(name, "")
        if not value:
            print(f"{name}: not set")
            continue
        for label, text in value_parts(name, value):
            shown = label if not label.startswith("uri host ") else "uri host"
            print(f"{name} {shown}: {fingerprint(text, key)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
