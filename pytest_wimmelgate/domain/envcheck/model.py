"""The ``variables`` section as data, and the result of one EV check.

No result's reason, evidence or exception text ever holds a variable's value: only
variable names, rule names, the configured (expected) constants, lengths, counts and
fingerprints. The one exception is EV-3's database name, which is not a secret
(credentials inside the URI are).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pytest_wimmelgate.domain.envcheck.values import char_classes, is_placeholder, is_url
from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category

SECTION = "variables"
RULES = (
    "equals",
    "one_of",
    "url",
    "min_length",
    "max_length",
    "pattern",
    "min_classes",
    "not_placeholder",
)
SECTION_KEYS = (
    "required",
    "rules",
    "conditional",
    "database",
    "mongodb_variable",
    "foreign",
    "endpoints",
    "otel_token_variable",
    "otel_token_header",
    "otel_token_scheme",
    "auth_secret",
    "secrets",
)


@dataclass(frozen=True)
class EnvResult(CheckResult):
    """Outcome of one EV check: ``ok``, a one-line reason and value-free evidence."""

    variables: tuple[str, ...] = ()
    default_category: ClassVar[Category] = Category.CONFIG

    def extra_evidence(self) -> dict[str, Any]:
        return {"variables": list(self.variables)}


def ok_result(check_id: str, reason: str, **details: Any) -> EnvResult:
    return EnvResult(check_id, True, reason, None, details, variables=())


def failed_result(check_id: str, reason: str, names: Sequence[str], **details: Any) -> EnvResult:
    return EnvResult(check_id, False, reason, Category.CONFIG, details, variables=tuple(names))


def value_of(variables: Mapping[str, str], name: str) -> str:
    return (variables.get(name) or "").strip()


@dataclass(frozen=True)
class Rule:
    """One value rule of EV-2; ``argument`` is normalised (text, tuple, int or bool)."""

    name: str
    argument: Any

    def describe(self) -> str:
        """The rule as shown in a reason, e.g. ``equals eu-central-1``."""
        if self.name == "one_of":
            return f"one_of [{', '.join(self.argument)}]"
        if self.name == "url":
            return "url " + "/".join(self.argument)
        if self.name == "not_placeholder":
            return "not_placeholder"
        return f"{self.name} {self.argument}"

    def allows(self, value: str) -> bool:
        """Whether ``value`` satisfies the rule."""
        check: Callable[[str], bool] = {
            "equals": lambda v: v == self.argument,
            "one_of": lambda v: v in self.argument,
            "url": lambda v: is_url(v, self.argument),
            "min_length": lambda v: len(v) >= self.argument,
            "max_length": lambda v: len(v) <= self.argument,
            "pattern": lambda v: re.fullmatch(self.argument, v) is not None,
            "min_classes": lambda v: char_classes(v) >= self.argument,
            "not_placeholder": lambda v: not (self.argument and is_placeholder(v)),
        }[self.name]
        return check(value)


@dataclass(frozen=True)
class Conditional:
    """``require`` applies when every ``when`` variable has one of its listed values."""

    when: tuple[tuple[str, tuple[str, ...]], ...]
    require: tuple[str, ...]

    def applies(self, variables: Mapping[str, str]) -> bool:
        return all(variables.get(name, "").strip() in values for name, values in self.when)

    def describe(self) -> str:
        return " and ".join(f"{name}={'|'.join(values)}" for name, values in self.when)


@dataclass(frozen=True)
class Foreign:
    """The other environment, as fingerprints, as process variables, and as markers."""

    environment: str = "foreign"
    fingerprints: tuple[tuple[str, tuple[str, ...]], ...] = ()
    from_env: tuple[tuple[str, str], ...] = ()
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthSecretPolicy:
    """EV-6 settings."""

    variable: str = "AUTH_SECRET"
    min_length: int = 32
    min_classes: int = 3
    placeholders: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariableRules:
    """The parsed ``variables`` section of one environment file."""

    source: str
    required: tuple[str, ...] = ()
    rules: tuple[tuple[str, tuple[Rule, ...]], ...] = ()
    conditional: tuple[Conditional, ...] = ()
    database: str | None = None
    mongodb_variable: str = "MONGODB_URI"
    foreign: Foreign | None = None
    endpoints: tuple[str, ...] = ("LOG_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_token_variable: str | None = "OTEL_EXPORTER_OTLP_HEADERS"
    otel_token_header: str = "Authorization"
    otel_token_scheme: str = "Bearer"
    auth_secret: AuthSecretPolicy = AuthSecretPolicy()
    secrets: tuple[str, ...] = ()

    def known_names(self) -> tuple[str, ...]:
        """Every variable this section talks about, in a stable order."""
        names: list[str] = list(self.required)
        names += [name for name, _ in self.rules]
        for cond in self.conditional:
            names += [name for name, _ in cond.when] + list(cond.require)
        names += [self.mongodb_variable, *self.endpoints, self.auth_secret.variable]
        if self.otel_token_variable:
            names.append(self.otel_token_variable)
        if self.foreign:
            names += [name for name, _ in self.foreign.fingerprints]
            names += [name for name, _ in self.foreign.from_env]
        return tuple(dict.fromkeys(names))
