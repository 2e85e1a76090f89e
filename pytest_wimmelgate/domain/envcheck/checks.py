"""EV-1, EV-2, EV-3, EV-5, EV-6 and `run_all` (EV-4 is in `contamination`).

Every ``check_*`` function returns an `EnvResult`; a failed requirement is ``ok=False``
with a one-line ``reason`` (``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed` for a test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pytest_wimmelgate.config.credentials import parse_uri
from pytest_wimmelgate.config.fingerprint import fingerprint
from pytest_wimmelgate.config.secrets import MIN_LENGTH, looks_secret, too_short
from pytest_wimmelgate.domain.envcheck.contamination import check_contamination, foreign_fingerprints
from pytest_wimmelgate.domain.envcheck.model import (
    SECTION,
    EnvResult,
    VariableRules,
    failed_result,
    ok_result,
    value_of,
)
from pytest_wimmelgate.domain.envcheck.values import char_classes, is_placeholder, is_url, otel_token_problem
from pytest_wimmelgate.errors import NotConfigured


def check_required(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-1: every name in ``required`` is set and non-empty (blank counts as empty)."""
    unset = [n for n in rules.required if n not in variables]
    empty = [n for n in rules.required if n in variables and not value_of(variables, n)]
    if not rules.required:
        return failed_result("EV-1", f"{rules.source}: variables.required lists no variable", [])
    if unset or empty:
        parts = []
        if unset:
            parts.append("not set: " + ", ".join(unset))
        if empty:
            parts.append("empty: " + ", ".join(empty))
        return failed_result(
            "EV-1",
            "mandatory variables missing (" + "; ".join(parts) + ")",
            unset + empty,
            unset=unset,
            empty=empty,
            required=len(rules.required),
        )
    return ok_result("EV-1", f"all {len(rules.required)} mandatory variables set", required=list(rules.required))


def check_values(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-2: value rules and conditional requirements; reasons name variable and rule."""
    problems: list[str] = []
    names: list[str] = []
    checked = 0
    for name, name_rules in rules.rules:
        value = value_of(variables, name)
        if not value:
            problems.append(f"{name} not set (rules: {', '.join(r.describe() for r in name_rules)})")
            names.append(name)
            continue
        for rule in name_rules:
            checked += 1
            if not rule.allows(value):
                problems.append(f"{name} violates {rule.describe()}")
                names.append(name)
    applied = []
    for cond in rules.conditional:
        if not cond.applies(variables):
            continue
        applied.append(cond.describe())
        missing = [n for n in cond.require if not value_of(variables, n)]
        if missing:
            problems.append(f"{', '.join(missing)} required when {cond.describe()}")
            names += missing
    if not rules.rules and not rules.conditional:
        return failed_result("EV-2", f"{rules.source}: variables.rules lists no rule", [])
    if problems:
        return failed_result("EV-2", "; ".join(problems), list(dict.fromkeys(names)), conditions=applied)
    when = f"; requirements for {', '.join(applied)} set" if applied else ""
    return ok_result("EV-2", f"{checked} value rules hold{when}", conditions=applied)


class _UriProblem(ValueError):
    """A URI problem described by us, with a message that never quotes the URI."""


def _mongo_parse(uri: str) -> dict[str, Any]:
    """Parse with pymongo without DNS: a ``mongodb+srv`` URI is checked as such, then
    parsed as ``mongodb://`` (SRV and TXT records are not looked up)."""
    from pymongo.uri_parser import parse_uri as pymongo_parse_uri

    lowered = uri.lower()
    if lowered.startswith("mongodb+srv://"):
        parts = parse_uri(uri)
        hosts = parts.hosts if parts is not None else ()
        if len(hosts) != 1 or ":" in hosts[0]:
            raise _UriProblem("a mongodb+srv URI names exactly one host and no port")
        base, q, query = uri[len("mongodb+srv://") :].partition("?")
        srv_only = ("srvservicename", "srvmaxhosts", "srvallowedhostssuffix")
        kept = [o for o in query.split("&") if o and o.split("=")[0].lower() not in srv_only]
        uri = "mongodb://" + base + (("?" + "&".join(kept)) if q and kept else "")
    return pymongo_parse_uri(uri)


def check_database(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-3: the MongoDB URI parses and names the expected database."""
    name = rules.mongodb_variable
    if rules.database is None:
        raise NotConfigured(f"{SECTION}.database")
    uri = value_of(variables, name)
    if not uri:
        return failed_result("EV-3", f"{name} not set", [name], expected_database=rules.database)
    if not uri.lower().startswith(("mongodb://", "mongodb+srv://")):
        return failed_result("EV-3", f"{name} is not a mongodb:// or mongodb+srv:// URI", [name])
    try:
        parsed = _mongo_parse(uri)
    except Exception as exc:  # pymongo raises several types; no message is echoed
        why = str(exc) if isinstance(exc, _UriProblem) else exc.__class__.__name__
        return failed_result(
            "EV-3",
            f"{name} does not parse as a MongoDB URI ({why})",
            [name],
            expected_database=rules.database,
        )
    database = parsed.get("database")
    scheme = "mongodb+srv" if uri.lower().startswith("mongodb+srv://") else "mongodb"
    details = {
        "scheme": scheme,
        "hosts": len(parsed.get("nodelist") or []),
        "database": database,
        "expected_database": rules.database,
    }
    if not database:
        return failed_result("EV-3", f"{name} names no database, expected {rules.database}", [name], **details)
    if database != rules.database:
        return failed_result("EV-3", f"{name} names database {database}, expected {rules.database}", [name], **details)
    return ok_result("EV-3", f"{name} parses ({scheme}) and names database {database}", **details)


def check_endpoints(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-5: endpoints are http(s) URLs with a host; the OTLP token entry is present."""
    problems: list[str] = []
    names: list[str] = []
    for name in rules.endpoints:
        value = value_of(variables, name)
        if not value:
            problems.append(f"{name} not set")
            names.append(name)
        elif not is_url(value):
            problems.append(f"{name} is not an http(s) URL with a host")
            names.append(name)
    otel = rules.otel_token_variable
    if otel:
        headers = value_of(variables, otel)
        problem = (
            "not set" if not headers else otel_token_problem(headers, rules.otel_token_header, rules.otel_token_scheme)
        )
        if problem:
            problems.append(f"{otel} {problem}")
            names.append(otel)
    details = {"endpoints": list(rules.endpoints), "token_variable": otel}
    if problems:
        return failed_result("EV-5", "; ".join(problems), list(dict.fromkeys(names)), **details)
    kind = f"{rules.otel_token_scheme} token" if rules.otel_token_scheme else "token"
    token = f"; {otel} has a {kind} in {rules.otel_token_header}" if otel else ""
    return ok_result("EV-5", f"{', '.join(rules.endpoints)} are valid URLs{token}", **details)


def check_auth_secret(
    variables: Mapping[str, str],
    rules: VariableRules,
    *,
    key: bytes,
    environ: Mapping[str, str] | None = None,
) -> EnvResult:
    """EV-6: length, character classes, not a placeholder, not the foreign one."""
    policy = rules.auth_secret
    name = policy.variable
    value = value_of(variables, name)
    if not value:
        return failed_result("EV-6", f"{name} not set", [name])
    problems: list[str] = []
    length, classes = len(value), char_classes(value)
    if length < policy.min_length:
        problems.append(f"{length} characters (need >= {policy.min_length})")
    if classes < policy.min_classes:
        problems.append(f"{classes} character classes (need >= {policy.min_classes})")
    if is_placeholder(value, policy.placeholders):
        problems.append("looks like a placeholder")
    short = short_secrets(variables, (*rules.required, *rules.secrets, name), declared=rules.secrets)
    if short:
        problems.append(
            f"too short to be safe (under {MIN_LENGTH} characters, so no output could mask it): {', '.join(short)}"
        )
    fp = fingerprint(value, key)
    compared = "not compared with another environment (variables.foreign not configured)"
    if rules.foreign is not None:
        table, _unset = foreign_fingerprints(rules.foreign, key, variables if environ is None else environ)
        if fp in table:
            problems.append(f"equals {table[fp]} (fingerprint {fp})")
        compared = f"differs from {len(table)} {rules.foreign.environment} fingerprints"
    details = {"length": length, "classes": classes, "fingerprint": fp}
    if problems:
        return failed_result("EV-6", f"{name} too weak: " + "; ".join(problems), [name], **details)
    return ok_result(
        "EV-6",
        f"{name} strong: {length} characters, {classes} classes, not a placeholder; {compared}",
        **details,
    )


def short_secrets(variables: Mapping[str, str], names: Iterable[str], declared: Iterable[str] = ()) -> list[str]:
    """The secrets among ``names`` (secret-named, or ``declared``) too short to be redacted in any output."""
    secret = set(declared)
    return sorted({n for n in names if (n in secret or looks_secret(n)) and too_short(value_of(variables, n) or "")})


def run_all(
    variables: Mapping[str, str],
    rules: VariableRules,
    *,
    key: bytes,
    environ: Mapping[str, str] | None = None,
) -> dict[str, EnvResult]:
    """All EV checks by id; a check whose settings are absent is left out."""
    calls: dict[str, Callable[[], EnvResult]] = {
        "EV-1": lambda: check_required(variables, rules),
        "EV-2": lambda: check_values(variables, rules),
        "EV-3": lambda: check_database(variables, rules),
        "EV-4": lambda: check_contamination(variables, rules, key=key, environ=environ),
        "EV-5": lambda: check_endpoints(variables, rules),
        "EV-6": lambda: check_auth_secret(variables, rules, key=key, environ=environ),
    }
    results: dict[str, EnvResult] = {}
    for check_id, call in calls.items():
        try:
            results[check_id] = call()
        except NotConfigured:
            continue
    return results
