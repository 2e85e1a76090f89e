"""Reading a catalogue file: the built-in ``wimmelwelt.yaml`` or a project's own, validated strictly.

A catalogue file is a mapping with three optional keys::

    runbook_headings: {"T.1": "T.1 Team checks"}       # section -> heading (runbook link anchors)
    gates:            {team_gate: {description: ..., sections: ["T.1"]}}
    checks:
      TEAM-1: {title: ..., gates: [staging_gate, team_gate], sections: ["T.1"], area: health,
               severity: critical, destructive: false, uses: [backend]}

A project's file is laid over the built-in catalogue: it adds gates, checks and headings,
and may put its checks into built-in gates; a name it repeats is an error. Every mistake
is a `ConfigError` naming the file and the key path (exit 4), in the wording of the
environment files (`pytest_wimmelgate.config.fields`). Reading needs no environment file and
costs one YAML parse, so the catalogue is known in ``pytest_configure``, before markers
are registered and ``-m`` is evaluated.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_wimmelgate.catalogue.checks import (
    CHECK_MARKER,
    DEFAULT_SEVERITY,
    DESTRUCTIVE_MARKER,
    SEVERITIES,
    Catalogue,
    Check,
    Gate,
)
from pytest_wimmelgate.config.fields import key_path, unknown_key_message
from pytest_wimmelgate.errors import ConfigError

BUILTIN_FILE = "catalogue/wimmelwelt.yaml"
BUILTIN_SOURCE = f"pytest_wimmelgate/{BUILTIN_FILE}"
TOP_KEYS = ("runbook_headings", "gates", "checks")
GATE_KEYS = ("description", "sections")
CHECK_KEYS = ("title", "gates", "sections", "area", "destructive", "uses", "severity")
CHECK_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
GATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_ID = 40
#: names a gate may not take: our own markers, pytest's, and the words of a ``-m`` expression
RESERVED_GATES = frozenset(
    {CHECK_MARKER, DESTRUCTIVE_MARKER, "and", "or", "not"}
    | {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "allure_label", "allure_link"}
)
DEFAULT_AREA = "team"


def load_builtin() -> Catalogue:
    """The shipped catalogue; a mistake in it is a `ConfigError` like any other file's."""
    from importlib import resources

    text = resources.files("pytest_wimmelgate").joinpath(BUILTIN_FILE).read_text(encoding="utf-8")
    return parse(_yaml(text, BUILTIN_SOURCE), BUILTIN_SOURCE, base=None)


def load_file(path: Path, source: str, base: Catalogue) -> Catalogue:
    """A project's catalogue file laid over ``base``; ``source`` is how errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"expected a readable file ({exc.strerror})") from None
    return parse(_yaml(text, source), source, base=base)


def _yaml(text: str, source: str) -> Any:
    """A catalogue file through the plugin's strict YAML loader (`config.yamlfile`)."""
    import yaml

    from pytest_wimmelgate.config import yamlfile

    try:
        return yamlfile.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ConfigError(source, where, f"valid YAML ({getattr(exc, 'problem', None) or 'syntax error'})") from None


def parse(document: Any, source: str, *, base: Catalogue | None) -> Catalogue:
    """Validate one catalogue document and add it to ``base`` (None: it is the built-in file)."""
    if document is None:
        document = {}
    top = _mapping(document, source, "")
    _only(top, TOP_KEYS, source, "")
    known_headings = dict(base.headings) if base else {}
    headings = _headings(top.get("runbook_headings"), source, known_headings)
    known_gates = {gate.name: gate for gate in base.gates} if base else {}
    gates = _gates(top.get("gates"), source, known_gates)
    all_gates = {*known_gates, *(gate.name for gate in gates)}
    known_ids = {check.id: check for check in base.checks} if base else {}
    checks = _checks(top.get("checks"), source, all_gates, known_ids)
    for gate in gates:
        if not any(gate.name in check.gates for check in checks):
            raise ConfigError(
                source, key_path("gates", gate.name), "expected a check in this gate (no check of this file names it)"
            )
    return Catalogue(
        gates=(*(base.gates if base else ()), *gates),
        checks=(*(base.checks if base else ()), *checks),
        headings={**known_headings, **headings},
        sources=(*(base.sources if base else ()), source),
    )


def _owner(source: str) -> str:
    return f"the built-in catalogue ({source})" if source == BUILTIN_SOURCE else source


def _headings(value: Any, source: str, known: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for section, heading in _mapping(value, source, "runbook_headings").items():
        where = key_path("runbook_headings", section)
        name = _section(section, source, where)
        if name in known:
            raise ConfigError(
                source, where, f"expected a new section (it already has a heading in {_owner(BUILTIN_SOURCE)})"
            )
        found[name] = _text(heading, source, where)
    return found


def _gates(value: Any, source: str, known: Mapping[str, Gate]) -> list[Gate]:
    gates = []
    for name, body in _mapping(value, source, "gates").items():
        where = key_path("gates", name)
        if not isinstance(name, str) or not GATE_NAME.fullmatch(name) or keyword.iskeyword(name):
            raise ConfigError(source, where, "expected a gate name of lower-case letters, digits and _ (a marker name)")
        if name in RESERVED_GATES:
            raise ConfigError(
                source, where, f"expected another gate name ({name!r} is a marker of pytest or of the plugin)"
            )
        if name in known:
            raise ConfigError(
                source, where, f"expected a new gate name (it is already a gate of {_owner(known[name].source)})"
            )
        entry = _mapping(body, source, where)
        _only(entry, GATE_KEYS, source, where)
        description = _text(_required(entry, "description", source, where), source, key_path(where, "description"))
        sections = _sections(entry.get("sections"), source, key_path(where, "sections"))
        gates.append(Gate(name, description, sections, source=source))
    return gates


def _checks(value: Any, source: str, gates: set[str], known: Mapping[str, Check]) -> list[Check]:
    from pytest_wimmelgate.config.sections import PARSERS

    checks = []
    for check_id, body in _mapping(value, source, "checks").items():
        where = key_path("checks", check_id)
        if not isinstance(check_id, str) or len(check_id) > MAX_ID or not CHECK_ID.fullmatch(check_id):
            raise ConfigError(
                source,
                where,
                f"expected a check id of letters and digits joined by - _ or . (e.g. TEAM-1), at most {MAX_ID}",
            )
        if check_id in known:
            raise ConfigError(
                source, where, f"expected a new check id (it is already a check of {_owner(known[check_id].source)})"
            )
        entry = _mapping(body, source, where)
        _only(entry, CHECK_KEYS, source, where)
        title = _text(_required(entry, "title", source, where), source, key_path(where, "title"))
        check_gates = _names(_required(entry, "gates", source, where), source, key_path(where, "gates"))
        if not check_gates:
            raise ConfigError(source, key_path(where, "gates"), "expected at least one gate")
        for index, gate in enumerate(check_gates):
            if gate not in gates:
                raise ConfigError(
                    source, f"{where}.gates[{index}]", f"expected a known gate (one of: {', '.join(sorted(gates))})"
                )
        uses = _names(entry.get("uses", []), source, key_path(where, "uses"))
        for index, section in enumerate(uses):
            if section not in PARSERS:
                raise ConfigError(
                    source,
                    f"{where}.uses[{index}]",
                    f"expected an environment-file section (one of: {', '.join(sorted(PARSERS))})",
                )
        severity = entry.get("severity", DEFAULT_SEVERITY)
        if severity not in SEVERITIES:
            raise ConfigError(source, key_path(where, "severity"), f"expected one of {', '.join(SEVERITIES)}")
        destructive = entry.get("destructive", False)
        if not isinstance(destructive, bool):
            raise ConfigError(source, key_path(where, "destructive"), "expected true or false")
        area = entry.get("area", DEFAULT_AREA)
        checks.append(
            Check(
                id=check_id,
                gates=check_gates,
                title=title,
                sections=_sections(entry.get("sections"), source, key_path(where, "sections")),
                area=_text(area, source, key_path(where, "area")),
                destructive=destructive,
                uses=uses,
                severity=severity,
                source=source,
            )
        )
    return checks


def _mapping(value: Any, source: str, where: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(source, where or "(top level)", f"expected a mapping, got {_kind(value)}")
    return value


def _only(mapping: Mapping[Any, Any], allowed: tuple[str, ...], source: str, where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(source, key_path(where, key), unknown_key_message([key], allowed))


def _required(mapping: Mapping[Any, Any], key: str, source: str, where: str) -> Any:
    if mapping.get(key) is None:
        raise ConfigError(source, key_path(where, key), "expected a value (the key is missing)")
    return mapping[key]


def _text(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(source, where, f"expected a non-empty text, got {_kind(value)}")
    return value.strip()


def _names(value: Any, source: str, where: str) -> tuple[str, ...]:
    """A list of distinct names (gates, sections of the environment file)."""
    if not isinstance(value, list):
        raise ConfigError(source, where, f"expected a list of names, got {_kind(value)}")
    names: list[str] = []
    for index, item in enumerate(value):
        name = _text(item, source, f"{where}[{index}]")
        if name in names:
            raise ConfigError(source, f"{where}[{index}]", f"expected each name once ({name!r} is listed twice)")
        names.append(name)
    return tuple(names)


def _sections(value: Any, source: str, where: str) -> tuple[str, ...]:
    """Runbook sections: texts such as "2.2" (a number like 2.10 would lose its digits)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(source, where, f"expected a list of runbook sections, got {_kind(value)}")
    return tuple(_section(item, source, f"{where}[{index}]") for index, item in enumerate(value))


def _section(value: Any, source: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(source, where, f'expected a runbook section as a text (quote it: "2.2"), got {_kind(value)}')
    text = str(value).strip()
    if not text:
        raise ConfigError(source, where, "expected a non-empty runbook section")
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "an empty text" if not value.strip() else "a text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
