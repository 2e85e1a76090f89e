"""EV-4: no value of the other environment here, compared by fingerprint, and no marker
of it in host, database or bucket names (runbook 6: no staging hosts, DB or tokens in prod
or the reverse). EV-6 reuses the foreign fingerprint table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pytest_wimmelgate.config.credentials import parse_uri
from pytest_wimmelgate.config.fingerprint import fingerprint, value_parts
from pytest_wimmelgate.config.secrets import looks_secret
from pytest_wimmelgate.domain.envcheck.model import (
    SECTION,
    EnvResult,
    Foreign,
    VariableRules,
    failed_result,
    ok_result,
    value_of,
)
from pytest_wimmelgate.errors import NotConfigured

#: names whose whole value is checked against foreign markers (never secret names).
_MARKED_NAME = re.compile(r"HOST|BUCKET|DATABASE|(^|_)DB($|_)", re.IGNORECASE)


def part_label(label: str) -> str:
    """A value part's label without the host name it may carry."""
    return "uri host" if label.startswith("uri host ") else label


def foreign_fingerprints(foreign: Foreign, key: bytes, environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """``{fingerprint: "ENV NAME part"}`` of the foreign environment; unset process vars."""
    table: dict[str, str] = {}
    unset = []
    for name, fps in foreign.fingerprints:
        for fp in fps:
            table.setdefault(fp, f"{foreign.environment} {name}")
    for name, var in foreign.from_env:
        value = (environ.get(var) or "").strip()
        if not value:
            unset.append(var)
            continue
        for label, text in value_parts(name, value):
            part = "" if label == "value" else " " + part_label(label)
            table.setdefault(fingerprint(text, key), f"{foreign.environment} {name}{part}")
    return table, unset


def marked_texts(variables: Mapping[str, str], rules: VariableRules) -> list[tuple[str, str, str]]:
    """``(variable, what, text)`` for hosts, database names and host/bucket-named values
    of variables that are not secret by name (a marker hit must not hint at a secret)."""
    out: list[tuple[str, str, str]] = []
    for name in rules.known_names():
        value = value_of(variables, name)
        if not value or looks_secret(name):
            continue
        uri = parse_uri(value) if "://" in value else None
        if uri is not None:
            for host in uri.host_names:
                out.append((name, "host", host))
            if uri.scheme in ("mongodb", "mongodb+srv") and uri.database:
                out.append((name, "database name", uri.database.split(".")[0].lower()))
        elif _MARKED_NAME.search(name):
            out.append((name, "value", value.lower()))
    return out


def check_contamination(
    variables: Mapping[str, str],
    rules: VariableRules,
    *,
    key: bytes,
    environ: Mapping[str, str] | None = None,
) -> EnvResult:
    """EV-4: no value of the foreign environment, compared by fingerprint, and no foreign
    marker in hosts, database names or host/bucket variables. ``environ`` is where
    ``foreign.from_env`` values are read (default: ``variables``)."""
    if rules.foreign is None:
        raise NotConfigured(f"{SECTION}.foreign")
    foreign = rules.foreign
    table, unset = foreign_fingerprints(foreign, key, variables if environ is None else environ)
    problems: list[str] = []
    names: list[str] = []
    matches = []
    compared = 0
    for name in rules.known_names():
        value = value_of(variables, name)
        if not value:
            continue
        for label, text in value_parts(name, value):
            compared += 1
            fp = fingerprint(text, key)
            if fp in table:
                shown = part_label(label)
                problems.append(f"{name} {shown} matches {table[fp]} (fingerprint {fp})")
                names.append(name)
                matches.append({"variable": name, "part": shown, "fingerprint": fp, "foreign": table[fp]})
    for name, what, text in marked_texts(variables, rules):
        for marker in foreign.markers:
            if marker in text:
                problems.append(f"{name} {what} contains {foreign.environment} marker '{marker}'")
                names.append(name)
    details = {
        "foreign_environment": foreign.environment,
        "foreign_fingerprints": len(table),
        "compared_parts": compared,
        "markers": list(foreign.markers),
        "matches": matches,
    }
    if unset:
        problems.append("foreign values not readable (unset): " + ", ".join(unset))
    if problems:
        return failed_result("EV-4", "; ".join(problems), list(dict.fromkeys(names)), **details)
    if not table and not foreign.markers:
        return failed_result("EV-4", f"{rules.source}: variables.foreign gives nothing to compare", [], **details)
    return ok_result(
        "EV-4",
        f"no {foreign.environment} value among {compared} compared parts "
        f"({len(table)} foreign fingerprints, {len(foreign.markers)} markers)",
        **details,
    )
