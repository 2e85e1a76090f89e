"""EV-1..EV-6: the target environment's variables and secrets (runbook section 6).

Style: every ``check_*`` function returns an :class:`EnvResult`; a failed requirement is
``ok=False`` with a one-line ``reason`` (``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed` for a test). A bad ``variables`` section
raises :class:`~pytest_wimmelgate.errors.ConfigError` from :func:`parse_rules` (exit 4).

No reason, evidence or exception text ever holds a variable's value: only variable names,
rule names, the configured (expected) constants, lengths, counts and fingerprints. The one
exception is EV-3's database name, which is not a secret (credentials inside the URI are).

Section ``variables`` of an environment file (all keys but ``required`` optional)::

    variables:
      required: [MONGODB_URI, AUTH_SECRET, ...]      # EV-1: set and non-empty
      rules:                                          # EV-2: per variable, see RULES
        FILE_STORAGE_MODE: {one_of: [s3, local]}
        LOG_LEVEL: {equals: debug}
      conditional:                                    # EV-2: requirements under a condition
        - {when: {FILE_STORAGE_MODE: s3}, require: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]}
      database: wimmelwelt_staging                    # EV-3 (mongodb_variable: MONGODB_URI)
      foreign:                                        # EV-4, EV-6: the other environment
        environment: production                       # a label used in reasons
        fingerprints: {AUTH_SECRET: [1a2b3c4d5e6f]}   # python -m pytest_wimmelgate.config.fingerprint
        from_env: {AUTH_SECRET: PROD_AUTH_SECRET}     # or: read its values from the process
        markers: [prod, wimmelwelt_prod]              # must not occur in hosts/db/bucket names
      endpoints: [LOG_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]   # EV-5 (this is the default)
      otel_token_variable: OTEL_EXPORTER_OTLP_HEADERS          # EV-5 (default)
      otel_token_header: Authorization                         # EV-5 (default)
      otel_token_scheme: Bearer                                # EV-5 (default; "" = none)
      auth_secret: {variable: AUTH_SECRET, min_length: 32, min_classes: 3, placeholders: []}
      secrets: [SMOKE_USER]                           # extra names whose values are secret

Rule vocabulary (``RULES``): ``equals: TEXT``, ``one_of: [TEXT, ...]``, ``url: true`` or
``url: [https]`` (allowed schemes; ``true`` means http and https), ``min_length: N``,
``max_length: N``, ``pattern: REGEX`` (full match), ``min_classes: N`` (of lower, upper,
digit, other), ``not_placeholder: true``. A value is compared as text; quote YAML scalars.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from pytest_wimmelgate.config.fingerprint import fingerprint, uri_hosts, value_parts
from pytest_wimmelgate.config.secrets import looks_secret
from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured

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
#: names whose whole value is checked against foreign markers (never secret names).
_MARKED_NAME = re.compile(r"HOST|BUCKET|DATABASE|(^|_)DB($|_)", re.IGNORECASE)

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


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EnvResult(CheckResult):
    """Outcome of one EV check: ``ok``, a one-line reason and value-free evidence."""

    variables: tuple[str, ...] = ()
    default_category: ClassVar[Category] = Category.CONFIG

    def extra_evidence(self) -> dict[str, Any]:
        return {"variables": list(self.variables)}


def _ok(check_id: str, reason: str, **details: Any) -> EnvResult:
    return EnvResult(check_id, True, reason, None, details, variables=())


def _fail(check_id: str, reason: str, names: Sequence[str], **details: Any) -> EnvResult:
    return EnvResult(check_id, False, reason, Category.CONFIG, details, variables=tuple(names))


# ----------------------------------------------------------------------------- config


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
        for key in value:
            if key not in keys:
                raise self.error(f"{path}.{key}", "one of: " + ", ".join(keys))

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
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(path, "a positive whole number")
        if upper is not None and value > upper:
            raise self.error(path, f"a whole number from 1 to {upper}")
        return value

    def rules(self, spec: Any, path: str) -> tuple[Rule, ...]:
        spec = self.mapping(spec, path)
        result = []
        for name, arg in spec.items():
            rule_path = f"{path}.{name}"
            if name not in RULES:
                raise self.error(rule_path, "one of: " + ", ".join(RULES))
            result.append(Rule(name, self.rule_argument(name, arg, rule_path)))
        return tuple(result)

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


# ---------------------------------------------------------------------------- helpers


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


def _value(variables: Mapping[str, str], name: str) -> str:
    return (variables.get(name) or "").strip()


# ----------------------------------------------------------------------------- checks


def check_required(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-1: every name in ``required`` is set and non-empty (blank counts as empty)."""
    unset = [n for n in rules.required if n not in variables]
    empty = [n for n in rules.required if n in variables and not _value(variables, n)]
    if not rules.required:
        return _fail("EV-1", f"{rules.source}: variables.required lists no variable", [])
    if unset or empty:
        parts = []
        if unset:
            parts.append("not set: " + ", ".join(unset))
        if empty:
            parts.append("empty: " + ", ".join(empty))
        return _fail(
            "EV-1",
            "mandatory variables missing (" + "; ".join(parts) + ")",
            unset + empty,
            unset=unset,
            empty=empty,
            required=len(rules.required),
        )
    return _ok("EV-1", f"all {len(rules.required)} mandatory variables set", required=list(rules.required))


def check_values(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-2: value rules and conditional requirements; reasons name variable and rule."""
    problems: list[str] = []
    names: list[str] = []
    checked = 0
    for name, name_rules in rules.rules:
        value = _value(variables, name)
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
        missing = [n for n in cond.require if not _value(variables, n)]
        if missing:
            problems.append(f"{', '.join(missing)} required when {cond.describe()}")
            names += missing
    if not rules.rules and not rules.conditional:
        return _fail("EV-2", f"{rules.source}: variables.rules lists no rule", [])
    if problems:
        return _fail("EV-2", "; ".join(problems), list(dict.fromkeys(names)), conditions=applied)
    when = f"; requirements for {', '.join(applied)} set" if applied else ""
    return _ok("EV-2", f"{checked} value rules hold{when}", conditions=applied)


class _UriProblem(ValueError):
    """A URI problem described by us, with a message that never quotes the URI."""


def _mongo_parse(uri: str) -> dict[str, Any]:
    """Parse with pymongo without DNS: a ``mongodb+srv`` URI is checked as such, then
    parsed as ``mongodb://`` (SRV and TXT records are not looked up)."""
    from pymongo.uri_parser import parse_uri

    lowered = uri.lower()
    if lowered.startswith("mongodb+srv://"):
        rest = uri[len("mongodb+srv://") :]
        hosts_part, _, _ = rest.partition("/")
        hosts_part = hosts_part.partition("?")[0].rpartition("@")[2]
        if "," in hosts_part or ":" in hosts_part or not hosts_part:
            raise _UriProblem("a mongodb+srv URI names exactly one host and no port")
        base, q, query = uri[len("mongodb+srv://") :].partition("?")
        srv_only = ("srvservicename", "srvmaxhosts", "srvallowedhostssuffix")
        kept = [o for o in query.split("&") if o and o.split("=")[0].lower() not in srv_only]
        uri = "mongodb://" + base + (("?" + "&".join(kept)) if q and kept else "")
    return parse_uri(uri)


def check_database(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-3: the MongoDB URI parses and names the expected database."""
    name = rules.mongodb_variable
    if rules.database is None:
        raise NotConfigured(f"{SECTION}.database")
    uri = _value(variables, name)
    if not uri:
        return _fail("EV-3", f"{name} not set", [name], expected_database=rules.database)
    if not uri.lower().startswith(("mongodb://", "mongodb+srv://")):
        return _fail("EV-3", f"{name} is not a mongodb:// or mongodb+srv:// URI", [name])
    try:
        parsed = _mongo_parse(uri)
    except Exception as exc:  # pymongo raises several types; no message is echoed
        why = str(exc) if isinstance(exc, _UriProblem) else exc.__class__.__name__
        return _fail(
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
        return _fail("EV-3", f"{name} names no database, expected {rules.database}", [name], **details)
    if database != rules.database:
        return _fail("EV-3", f"{name} names database {database}, expected {rules.database}", [name], **details)
    return _ok("EV-3", f"{name} parses ({scheme}) and names database {database}", **details)


def _part_label(label: str) -> str:
    """A value part's label without the host name it may carry."""
    return "uri host" if label.startswith("uri host ") else label


def _foreign_fingerprints(foreign: Foreign, key: bytes, environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
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
            part = "" if label == "value" else " " + _part_label(label)
            table.setdefault(fingerprint(text, key), f"{foreign.environment} {name}{part}")
    return table, unset


def _marked_texts(variables: Mapping[str, str], rules: VariableRules) -> list[tuple[str, str, str]]:
    """``(variable, what, text)`` for hosts, database names and host/bucket-named values
    of variables that are not secret by name (a marker hit must not hint at a secret)."""
    out: list[tuple[str, str, str]] = []
    for name in rules.known_names():
        value = _value(variables, name)
        if not value or looks_secret(name):
            continue
        if "://" in value:
            for host in uri_hosts(value):
                out.append((name, "host", host))
            if value.lower().startswith(("mongodb://", "mongodb+srv://")):
                path = value.split("://", 1)[1].partition("/")[2].partition("?")[0]
                if path:
                    out.append((name, "database name", unquote(path).split(".")[0].lower()))
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
    table, unset = _foreign_fingerprints(foreign, key, variables if environ is None else environ)
    problems: list[str] = []
    names: list[str] = []
    matches = []
    compared = 0
    for name in rules.known_names():
        value = _value(variables, name)
        if not value:
            continue
        for label, text in value_parts(name, value):
            compared += 1
            fp = fingerprint(text, key)
            if fp in table:
                shown = _part_label(label)
                problems.append(f"{name} {shown} matches {table[fp]} (fingerprint {fp})")
                names.append(name)
                matches.append({"variable": name, "part": shown, "fingerprint": fp, "foreign": table[fp]})
    for name, what, text in _marked_texts(variables, rules):
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
        return _fail("EV-4", "; ".join(problems), list(dict.fromkeys(names)), **details)
    if not table and not foreign.markers:
        return _fail("EV-4", f"{rules.source}: variables.foreign gives nothing to compare", [], **details)
    return _ok(
        "EV-4",
        f"no {foreign.environment} value among {compared} compared parts "
        f"({len(table)} foreign fingerprints, {len(foreign.markers)} markers)",
        **details,
    )


def otel_token_problem(headers: str, header: str = "Authorization", scheme: str = "Bearer") -> str | None:
    """What is wrong with the token entry in an OTLP headers value, or None if it is fine."""
    entries = {}
    for item in headers.split(","):
        k, eq, v = item.partition("=")
        if eq and k.strip():
            entries[k.strip().lower()] = unquote(v).strip()
    if header.lower() not in entries:
        return f"has no {header} entry"
    value = entries[header.lower()]
    if scheme:
        word, _, token = value.partition(" ")
        if word.lower() != scheme.lower():
            return f"{header} entry is not '{scheme} <token>'"
        token = token.strip()
    else:
        token = value
    if not token:
        return f"{header} token is empty"
    if is_placeholder(token):
        return f"{header} token is a placeholder"
    return None


def check_endpoints(variables: Mapping[str, str], rules: VariableRules) -> EnvResult:
    """EV-5: endpoints are http(s) URLs with a host; the OTLP token entry is present."""
    problems: list[str] = []
    names: list[str] = []
    for name in rules.endpoints:
        value = _value(variables, name)
        if not value:
            problems.append(f"{name} not set")
            names.append(name)
        elif not is_url(value):
            problems.append(f"{name} is not an http(s) URL with a host")
            names.append(name)
    otel = rules.otel_token_variable
    if otel:
        headers = _value(variables, otel)
        problem = (
            "not set" if not headers else otel_token_problem(headers, rules.otel_token_header, rules.otel_token_scheme)
        )
        if problem:
            problems.append(f"{otel} {problem}")
            names.append(otel)
    details = {"endpoints": list(rules.endpoints), "token_variable": otel}
    if problems:
        return _fail("EV-5", "; ".join(problems), list(dict.fromkeys(names)), **details)
    kind = f"{rules.otel_token_scheme} token" if rules.otel_token_scheme else "token"
    token = f"; {otel} has a {kind} in {rules.otel_token_header}" if otel else ""
    return _ok("EV-5", f"{', '.join(rules.endpoints)} are valid URLs{token}", **details)


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
    value = _value(variables, name)
    if not value:
        return _fail("EV-6", f"{name} not set", [name])
    problems: list[str] = []
    length, classes = len(value), char_classes(value)
    if length < policy.min_length:
        problems.append(f"{length} characters (need >= {policy.min_length})")
    if classes < policy.min_classes:
        problems.append(f"{classes} character classes (need >= {policy.min_classes})")
    if is_placeholder(value, policy.placeholders):
        problems.append("looks like a placeholder")
    fp = fingerprint(value, key)
    compared = "not compared with another environment (variables.foreign not configured)"
    if rules.foreign is not None:
        table, _unset = _foreign_fingerprints(rules.foreign, key, variables if environ is None else environ)
        if fp in table:
            problems.append(f"equals {table[fp]} (fingerprint {fp})")
        compared = f"differs from {len(table)} {rules.foreign.environment} fingerprints"
    details = {"length": length, "classes": classes, "fingerprint": fp}
    if problems:
        return _fail("EV-6", f"{name} too weak: " + "; ".join(problems), [name], **details)
    return _ok(
        "EV-6",
        f"{name} strong: {length} characters, {classes} classes, not a placeholder; {compared}",
        **details,
    )


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
