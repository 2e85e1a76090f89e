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

from pytest_wimmelgate.config.credentials import auth_token, parse_header_list, parse_uri

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


def value_parts(name: str, value: str) -> list[tuple[str, str]]:
    """``(part label, text)`` pairs worth fingerprinting for one variable.

    Always the whole value; for URIs the password, for MongoDB URIs every host (a
    database cluster is never shared between environments, a SaaS log or OTLP endpoint
    may be); for header lists (names ending in ``HEADERS``) each header value and the
    token of ``Bearer <token>`` inside it (any case, any scheme of
    `pytest_wimmelgate.config.credentials.AUTH_SCHEMES`). All parsing is
    `pytest_wimmelgate.config.credentials`'.
    """
    parts: list[tuple[str, str]] = []
    if value:
        parts.append(("value", value))
    uri = parse_uri(value) if "://" in value else None
    if uri is not None and uri.has_userinfo and uri.password:
        parts.append(("uri password", uri.password))
    if uri is not None and uri.scheme in ("mongodb", "mongodb+srv"):
        for host in uri.host_names:
            parts.append((f"uri host {host}", host))
    if name.upper().endswith("HEADERS"):
        for header in parse_header_list(value).headers:
            if not header.value:
                continue
            parts.append(("header value", header.value))
            token = auth_token(header.value)
            if token:
                parts.append(("header token", token))
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
