"""The ``variables`` section of an environment file, parsed into `VariableRules`.

A bad section raises `ConfigError` with its key path, e.g. ``variables.rules.LOG_LEVEL.equal``;
an unknown key reads ``unknown key 'equal' (expected one of: ...)``. Whole numbers may be
written as texts (``"32"``). No error quotes a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_wimmelgate.config.fields import as_whole_number, check_keys
from pytest_wimmelgate.domain.envcheck.model import (
    RULES,
    SECTION,
    SECTION_KEYS,
    AuthSecretPolicy,
    Conditional,
    Foreign,
    Rule,
    VariableRules,
)
from pytest_wimmelgate.errors import ConfigError, NotConfigured


def parse_rules(section: Mapping[str, Any] | None, source: str) -> VariableRules:
    """Validate the ``variables`` section; ``source`` is the environment file's path.

    An absent section raises :class:`NotConfigured`; every malformed key raises
    :class:`ConfigError` with its key path, e.g. ``variables.rules.LOG_LEVEL.equal``.
    """
    if section is None:
        raise NotConfigured(SECTION)
    p = _Parser(source)
    sec = p.mapping(section, SECTION)
    p.known_keys(sec, SECTION, SECTION_KEYS)
    required = p.names(sec.get("required", []), f"{SECTION}.required")
    rules = tuple(
        (name, p.rules(spec, f"{SECTION}.rules.{name}"))
        for name, spec in p.mapping(sec.get("rules", {}), f"{SECTION}.rules").items()
        if p.name(name, f"{SECTION}.rules")
    )
    conditional = tuple(
        p.conditional(item, f"{SECTION}.conditional[{i}]")
        for i, item in enumerate(p.sequence(sec.get("conditional", []), f"{SECTION}.conditional"))
    )
    database = sec.get("database")
    if database is not None:
        database = p.text(database, f"{SECTION}.database")
    endpoints = p.names(sec.get("endpoints", list(VariableRules.endpoints)), f"{SECTION}.endpoints")
    otel = sec.get("otel_token_variable", VariableRules.otel_token_variable)
    otel = None if otel is None else p.name(otel, f"{SECTION}.otel_token_variable")
    scheme = sec.get("otel_token_scheme", VariableRules.otel_token_scheme)
    if not isinstance(scheme, str):
        raise ConfigError(source, f"{SECTION}.otel_token_scheme", "a text such as Bearer, or ''")
    return VariableRules(
        source=source,
        required=required,
        rules=rules,
        conditional=conditional,
        database=database,
        mongodb_variable=p.name(sec.get("mongodb_variable", "MONGODB_URI"), f"{SECTION}.mongodb_variable"),
        foreign=p.foreign(sec.get("foreign"), f"{SECTION}.foreign"),
        endpoints=endpoints,
        otel_token_variable=otel,
        otel_token_header=p.text(sec.get("otel_token_header", "Authorization"), f"{SECTION}.otel_token_header"),
        otel_token_scheme=scheme.strip(),
        auth_secret=p.auth_secret(sec.get("auth_secret", {}), f"{SECTION}.auth_secret"),
        secrets=p.names(sec.get("secrets", []), f"{SECTION}.secrets"),
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key_path: str, expected: str) -> ConfigError:
        return ConfigError(self.source, key_path, expected)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, "a mapping")
        return value

    def sequence(self, value: Any, path: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.error(path, "a list")
        return value

    def known_keys(self, value: Mapping[str, Any], path: str, keys: Sequence[str]) -> None:
        check_keys(value, keys, self.source, path)

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _NAME.fullmatch(value):
            raise self.error(path, "a variable name like LOG_LEVEL")
        return value

    def names(self, value: Any, path: str) -> tuple[str, ...]:
        items = self.sequence(value, path)
        return tuple(self.name(item, f"{path}[{i}]") for i, item in enumerate(items))

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(path, "a text (quote it in YAML)")
        text = str(value)
        if not text.strip():
            raise self.error(path, "a non-empty text")
        return text

    def positive_int(self, value: Any, path: str, upper: int | None = None) -> int:
        number = as_whole_number(value)
        if number is None or number < 1:
            raise self.error(path, "a positive whole number")
        if upper is not None and number > upper:
            raise self.error(path, f"a whole number from 1 to {upper}")
        return number

    def rules(self, spec: Any, path: str) -> tuple[Rule, ...]:
        spec = self.mapping(spec, path)
        check_keys(spec, RULES, self.source, path)
        return tuple(Rule(name, self.rule_argument(name, arg, f"{path}.{name}")) for name, arg in spec.items())

    def rule_argument(self, name: str, arg: Any, path: str) -> Any:
        if name == "equals":
            return self.text(arg, path)
        if name == "one_of":
            items = self.sequence(arg, path)
            if not items:
                raise self.error(path, "a non-empty list")
            return tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(items))
        if name == "url":
            if arg is True:
                return ("http", "https")
            schemes = self.sequence(arg, path) if not isinstance(arg, str) else [arg]
            if not schemes:
                raise self.error(path, "true or a non-empty list of URL schemes")
            return tuple(self.text(s, f"{path}[{i}]").lower() for i, s in enumerate(schemes))
        if name in ("min_length", "max_length"):
            return self.positive_int(arg, path)
        if name == "min_classes":
            return self.positive_int(arg, path, upper=4)
        if name == "pattern":
            pattern = self.text(arg, path)
            try:
                re.compile(pattern)
            except re.error:
                raise self.error(path, "a valid regular expression") from None
            return pattern
        if not isinstance(arg, bool):  # not_placeholder
            raise self.error(path, "true or false")
        return arg

    def conditional(self, item: Any, path: str) -> Conditional:
        item = self.mapping(item, path)
        self.known_keys(item, path, ("when", "require"))
        when_map = self.mapping(item.get("when"), f"{path}.when")
        if not when_map:
            raise self.error(f"{path}.when", "a mapping of VARIABLE: value or [values]")
        when = []
        for name, values in when_map.items():
            name_path = f"{path}.when.{name}"
            self.name(name, f"{path}.when")
            items = values if isinstance(values, list) else [values]
            if not items:
                raise self.error(name_path, "a value or a non-empty list of values")
            when.append((name, tuple(self.text(v, f"{name_path}[{i}]") for i, v in enumerate(items))))
        require = self.names(item.get("require"), f"{path}.require")
        if not require:
            raise self.error(f"{path}.require", "a non-empty list of variable names")
        return Conditional(tuple(when), require)

    def foreign(self, value: Any, path: str) -> Foreign | None:
        if value is None:
            return None
        sec = self.mapping(value, path)
        self.known_keys(sec, path, ("environment", "fingerprints", "from_env", "markers"))
        fps = []
        for name, items in self.mapping(sec.get("fingerprints", {}), f"{path}.fingerprints").items():
            fp_path = f"{path}.fingerprints.{name}"
            self.name(name, f"{path}.fingerprints")
            listed = items if isinstance(items, list) else [items]
            clean = []
            for i, item in enumerate(listed):
                text = str(item).strip().lower() if isinstance(item, str) else ""
                if not re.fullmatch(r"[0-9a-f]{12}", text):
                    raise self.error(f"{fp_path}[{i}]", "a 12-hex-digit fingerprint")
                clean.append(text)
            fps.append((name, tuple(clean)))
        from_env = tuple(
            (self.name(name, f"{path}.from_env"), self.name(var, f"{path}.from_env.{name}"))
            for name, var in self.mapping(sec.get("from_env", {}), f"{path}.from_env").items()
        )
        markers = tuple(
            self.text(m, f"{path}.markers[{i}]").lower()
            for i, m in enumerate(self.sequence(sec.get("markers", []), f"{path}.markers"))
        )
        env = self.text(sec.get("environment", "foreign"), f"{path}.environment")
        return Foreign(env, tuple(fps), from_env, markers)

    def auth_secret(self, value: Any, path: str) -> AuthSecretPolicy:
        sec = self.mapping(value, path)
        self.known_keys(sec, path, ("variable", "min_length", "min_classes", "placeholders"))
        return AuthSecretPolicy(
            variable=self.name(sec.get("variable", "AUTH_SECRET"), f"{path}.variable"),
            min_length=self.positive_int(sec.get("min_length", 32), f"{path}.min_length"),
            min_classes=self.positive_int(sec.get("min_classes", 3), f"{path}.min_classes", 4),
            placeholders=tuple(
                self.text(v, f"{path}.placeholders[{i}]")
                for i, v in enumerate(self.sequence(sec.get("placeholders", []), f"{path}.placeholders"))
            ),
        )
