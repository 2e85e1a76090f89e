"""AL-1 and AL-2: the minimal alert rule set and the Alertmanager routing (runbook 7).

AL-1 — rules. `load_rule_file` reads a Prometheus rule file and checks its structure as
``promtool check rules`` does (``groups`` list, unique non-empty group names, each rule
exactly one of ``alert``/``record``, non-empty ``expr``, ``for`` a valid duration,
``labels``/``annotations`` maps of strings, no unknown keys, no duplicate keys), raising
`ConfigError(file, key_path, expected)`. When ``promtool`` is on PATH it then runs
``promtool check rules FILE`` too (that also parses the PromQL) and puts promtool's
message into the error. `check_rules` compares rules — from files or from Prometheus'
``/api/v1/rules`` — with the expectations of the environment file.

Threshold heuristic (documented on purpose, it is a heuristic): the numbers written in
an alert's ``expr`` are collected after removing string literals, range/subquery
selectors ``[5m]``/``[1h:1m]``, ``offset``/``@`` modifiers and numbers that are part of
identifiers; the expected threshold must equal one of them (relative tolerance 1e-9).
With ``unit: "%"`` the ratio form also counts (0.5 % ⇔ 0.005), with ``unit: ms`` the
seconds form (500 ms ⇔ 0.5). The check cannot see which side of a comparison a number
stands on, and a threshold equal to another literal in the expression (e.g. the 0.95 of
``histogram_quantile``) would be found there. The window is satisfied by a range
selector of that duration in ``expr`` or by a ``for`` of that duration.

Expected rules (``alerting.rules`` in an environment file)::

    ReadinessFailureRate: {threshold: 0.5, unit: "%", window: 5m, labels: {severity: P2}}
    LoggingSilence: {window: 30m}

AL-2 — routing. `check_routing` walks an Alertmanager route tree as Alertmanager does:
a route matches when all its ``matchers`` (and legacy ``match``/``match_re``) match; its
children are tried in order and the first matching child wins unless it has
``continue: true``; with no matching child the route itself is the match; ``receiver``
is inherited from the parent. Expected routing (``alerting.routing``)::

    forbid_anywhere: [pagerduty]              # staging: no pagerduty_configs at all
    routes:
      - labels: {alertname: Any, severity: P1}
        require: [email, slack]               # every one of these integrations
        require_any: []                       # at least one of these
        forbid: [pagerduty]
        slack_channel: "#wimmelwelt-staging"
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config import yamlfile
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics.slo import parse_duration
from pytest_wimmelgate.probes.prometheus import Rule, RuleGroup

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TOP_KEYS = frozenset({"groups"})
_GROUP_KEYS = frozenset({"name", "interval", "limit", "query_offset", "labels", "rules"})
_RULE_KEYS = frozenset({"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"})
#: Alertmanager receiver integrations, as ``<name>_configs`` keys.
INTEGRATIONS = frozenset(
    {
        "email",
        "slack",
        "pagerduty",
        "webhook",
        "opsgenie",
        "victorops",
        "pushover",
        "wechat",
        "telegram",
        "sns",
        "webex",
        "msteams",
        "msteamsv2",
        "discord",
        "jira",
        "rocketchat",
    }
)
PROMTOOL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Problem:
    """One finding of AL-1/AL-2: what it is about and what is wrong, in one line."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


# --------------------------------------------------------------------------- rule files


def load_rule_file(path: str | Path, *, promtool: bool = True) -> list[RuleGroup]:
    """Load and validate one Prometheus rule file; `ConfigError` names file and key path."""
    import yaml

    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"a readable rule file ({exc.strerror or exc})") from None
    try:
        document = yamlfile.load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(filter(None, (exc.context, exc.problem)))
        raise ConfigError(source, where, f"valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", f"valid YAML ({exc})") from None
    groups = validate_rule_document(document, source)
    if promtool:
        run_promtool(path)
    return groups


def load_rule_files(paths: Iterable[str | Path], *, promtool: bool = True) -> list[RuleGroup]:
    groups: list[RuleGroup] = []
    for path in paths:
        groups.extend(load_rule_file(path, promtool=promtool))
    return groups


def validate_rule_document(document: Any, source: str) -> list[RuleGroup]:
    """Check a parsed rule file the way Prometheus' ``rulefmt`` does; build `RuleGroup`s."""
    if document is None:
        return []  # an empty file has no groups; promtool accepts it too
    if not isinstance(document, Mapping):
        raise ConfigError(source, "", "a mapping with a 'groups' list")
    _unknown(document, _TOP_KEYS, source, "")
    raw_groups = document.get("groups")
    if raw_groups is None:
        return []
    if not isinstance(raw_groups, list):
        raise ConfigError(source, "groups", "a list of rule groups")
    seen: dict[str, int] = {}
    groups: list[RuleGroup] = []
    for gi, group in enumerate(raw_groups):
        here = f"groups[{gi}]"
        if not isinstance(group, Mapping):
            raise ConfigError(source, here, "a mapping with name and rules")
        _unknown(group, _GROUP_KEYS, source, here)
        name = group.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(source, f"{here}.name", "a non-empty group name")
        if name in seen:
            raise ConfigError(
                source,
                f"{here}.name",
                f"a unique group name; {name!r} is already groups[{seen[name]}]",
            )
        seen[name] = gi
        interval = _duration(group, "interval", source, here) if "interval" in group else 0.0
        if "labels" in group:
            _string_map(group["labels"], source, f"{here}.labels", label_names=True)
        raw_rules = group.get("rules")
        if raw_rules is None:
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise ConfigError(source, f"{here}.rules", "a list of rules")
        rules = tuple(_validate_rule(rule, source, f"{here}.rules[{ri}]", name) for ri, rule in enumerate(raw_rules))
        groups.append(RuleGroup(name=name, file=source, interval_s=interval, rules=rules))
    return groups


def _validate_rule(rule: Any, source: str, here: str, group: str) -> Rule:
    if not isinstance(rule, Mapping):
        raise ConfigError(source, here, "a mapping with alert or record, and expr")
    _unknown(rule, _RULE_KEYS, source, here)
    alert, record = rule.get("alert"), rule.get("record")
    if (alert is None) == (record is None):
        raise ConfigError(source, here, "exactly one of 'alert' or 'record'")
    if alert is not None and (not isinstance(alert, str) or not alert.strip()):
        raise ConfigError(source, f"{here}.alert", "a non-empty alert name")
    if record is not None and (not isinstance(record, str) or not _METRIC_NAME.match(record)):
        raise ConfigError(source, f"{here}.record", "a valid metric name")
    name = str(alert if alert is not None else record)
    what = f"(alert {name})" if alert is not None else f"(record {name})"
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        raise ConfigError(source, f"{here}.expr", f"a non-empty PromQL string {what}")
    if record is not None:
        for key in ("for", "keep_firing_for", "annotations"):
            if key in rule:
                raise ConfigError(source, f"{here}.{key}", f"absent: not allowed in a recording rule {what}")
    for_s = _duration(rule, "for", source, here, what) if "for" in rule else 0.0
    if "keep_firing_for" in rule:
        _duration(rule, "keep_firing_for", source, here, what)
    labels = _string_map(rule.get("labels"), source, f"{here}.labels", label_names=True, what=what)
    annotations = _string_map(rule.get("annotations"), source, f"{here}.annotations", what=what)
    return Rule(
        kind="alerting" if alert is not None else "recording",
        name=name,
        expr=expr,
        for_s=for_s,
        labels=labels,
        annotations=annotations,
        group=group,
        source=source,
    )


def _duration(entry: Mapping[str, Any], key: str, source: str, here: str, what: str = "") -> float:
    try:
        return parse_duration(entry[key])
    except ValueError:
        suffix = f" {what}" if what else ""
        raise ConfigError(source, f"{here}.{key}", f"a Prometheus duration such as 30s, 5m, 1h{suffix}") from None


def _string_map(value: Any, source: str, here: str, *, label_names: bool = False, what: str = "") -> dict[str, str]:
    suffix = f" {what}" if what else ""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(source, here, f"a mapping of strings{suffix}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or (label_names and not _LABEL_NAME.match(key)):
            raise ConfigError(source, f"{here}.{key}", f"a valid label name{suffix}")
        if not isinstance(item, str):
            raise ConfigError(source, f"{here}.{key}", f'a string (quote it: "{item}"){suffix}')
        result[key] = item
    return result


def _unknown(entry: Mapping[str, Any], allowed: frozenset[str], source: str, here: str) -> None:
    for key in entry:
        if key not in allowed:
            path = f"{here}.{key}" if here else str(key)
            raise ConfigError(source, path, f"no such field; allowed: {', '.join(sorted(allowed))}")


def promtool_path() -> str | None:
    return shutil.which("promtool")


def run_promtool(path: str | Path) -> str | None:
    """``promtool check rules FILE`` when promtool is installed; its output, or None.

    A non-zero exit raises `ConfigError` carrying promtool's own message.
    """
    tool = promtool_path()
    if tool is None:
        return None
    try:
        done = subprocess.run(
            [tool, "check", "rules", str(path)],
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(str(path), "", f"a file promtool can check ({exc})") from None
    output = "\n".join(filter(None, (done.stdout.strip(), done.stderr.strip())))
    if done.returncode != 0:
        message = " ".join(
            line.strip() for line in output.splitlines() if line.strip() and not line.startswith("Checking ")
        )
        raise ConfigError(str(path), "", f"rules promtool accepts; promtool check rules: {message}")
    return output


def flatten(groups: Iterable[RuleGroup]) -> list[Rule]:
    return [rule for group in groups for rule in group.rules]


# ---------------------------------------------------------------------- expected rules


@dataclass(frozen=True)
class ExpectedAlert:
    """An alert the environment requires, with its threshold and window (runbook 7)."""

    name: str
    threshold: float | None = None
    unit: str | None = None
    window: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def accepted_thresholds(self) -> list[float]:
        if self.threshold is None:
            return []
        values = [self.threshold]
        if self.unit in ("%", "percent"):
            values.append(self.threshold / 100.0)
        elif self.unit == "ms":
            values.append(self.threshold / 1000.0)
        return values


def expected_rules(
    mapping: Mapping[str, Any],
    *,
    source: str = "environment",
    key_path: str = "alerting.rules",
) -> list[ExpectedAlert]:
    """``{AlertName: {threshold?, unit?, window?, labels?}}`` → `ExpectedAlert` list."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError(source, key_path, "a non-empty mapping of alert name to expectations")
    allowed = {"threshold", "unit", "window", "labels"}
    result: list[ExpectedAlert] = []
    for name, entry in mapping.items():
        here = f"{key_path}.{name}"
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with threshold, unit, window, labels")
        for key in entry:
            if key not in allowed:
                raise ConfigError(source, f"{here}.{key}", f"no such key; allowed: {', '.join(sorted(allowed))}")
        threshold = entry.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold)
        ):
            raise ConfigError(source, f"{here}.threshold", "a finite number")
        unit = entry.get("unit")
        if unit is not None and unit not in ("%", "percent", "ms", ""):
            raise ConfigError(source, f"{here}.unit", 'one of "%", "ms" (or leave it out)')
        window = entry.get("window")
        if window is not None:
            try:
                parse_duration(window)
            except ValueError:
                raise ConfigError(source, f"{here}.window", "a Prometheus duration such as 5m") from None
        labels = _string_map(entry.get("labels"), source, f"{here}.labels", label_names=True)
        result.append(
            ExpectedAlert(
                str(name),
                None if threshold is None else float(threshold),
                unit or None,
                window,
                labels,
            )
        )
    return result


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"' r"|'(?:[^'\\]|\\.)*'" r"|`[^`]*`")
_BRACKETS = re.compile(r"\[[^\]]*\]")
_RANGES = re.compile(r"\[\s*([0-9a-z]+)\s*(?::[^\]]*)?\]")
_MODIFIERS = re.compile(r"\b(?:offset\s+-?[0-9a-z]+|@\s*[0-9.]+)", re.I)
_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")


def numbers_in(expr: str) -> list[float]:
    """The numeric literals of a PromQL expression (see the module's heuristic)."""
    text = _STRINGS.sub(" ", expr)
    text = _BRACKETS.sub(" ", text)
    text = _MODIFIERS.sub(" ", text)
    return [float(m.group(0)) for m in _NUMBER.finditer(text)]


def windows_in(expr: str) -> list[float]:
    """The durations of range and subquery selectors in ``expr``, in seconds."""
    found = []
    for match in _RANGES.finditer(_STRINGS.sub(" ", expr)):
        try:
            found.append(parse_duration(match.group(1)))
        except ValueError:
            continue
    return found


def check_rules(rules: Iterable[Rule], expected: Iterable[ExpectedAlert]) -> list[Problem]:
    """Missing alerts, and alerts whose threshold, window or labels differ from expected."""
    alerting = [r for r in rules if r.kind == "alerting"]
    problems: list[Problem] = []
    for want in expected:
        subject = f"alert {want.name}"
        candidates = [r for r in alerting if r.name == want.name]
        if not candidates:
            names = ", ".join(sorted({r.name for r in alerting})) or "none"
            problems.append(Problem(subject, f"missing: no alerting rule of that name (present: {names})"))
            continue
        findings = [_rule_issues(rule, want) for rule in candidates]
        if all(findings):
            best = min(findings, key=len)
            problems.extend(Problem(subject, issue) for issue in best)
    return problems


def _rule_issues(rule: Rule, want: ExpectedAlert) -> list[str]:
    where = f"(group {rule.group!r}" + (f", {rule.source}" if rule.source else "") + ")"
    issues: list[str] = []
    accepted = want.accepted_thresholds()
    if accepted:
        numbers = numbers_in(rule.expr)
        if not any(math.isclose(n, a, rel_tol=1e-9, abs_tol=1e-12) for n in numbers for a in accepted):
            shown = ", ".join(f"{n:g}" for n in numbers) or "none"
            unit = f" {want.unit}" if want.unit else ""
            hint = "" if want.unit else "; set unit '%' or 'ms' if the rule uses a ratio or seconds"
            issues.append(
                f"threshold {want.threshold:g}{unit} not found in expr {rule.expr!r}"
                f" (numbers there: {shown}{hint}) {where}"
            )
    if want.window is not None:
        seconds = parse_duration(want.window)
        ranges = windows_in(rule.expr)
        if not any(math.isclose(seconds, r) for r in ranges) and not math.isclose(seconds, rule.for_s):
            issues.append(
                f"window {want.window} neither a range selector in expr nor its 'for'"
                f" (ranges: {', '.join(f'{r:g}s' for r in ranges) or 'none'},"
                f" for: {rule.for_s:g}s) {where}"
            )
    for key, value in want.labels.items():
        if rule.labels.get(key) != value:
            issues.append(f"label {key}={value!r} expected, found {rule.labels.get(key)!r} {where}")
    if rule.health == "err":
        issues.append(f"Prometheus cannot evaluate it: {rule.last_error or 'health err'} {where}")
    return issues


# ----------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class ExpectedRoute:
    """Where an alert with ``labels`` must end up."""

    labels: Mapping[str, str]
    require: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    slack_channel: str | None = None
    name: str = ""

    def describe(self) -> str:
        if self.name:
            return self.name
        return "alert {" + ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items())) + "}"


@dataclass(frozen=True)
class RoutingExpectation:
    routes: tuple[ExpectedRoute, ...]
    forbid_anywhere: tuple[str, ...] = ()


def expected_routing(
    mapping: Mapping[str, Any],
    *,
    source: str = "environment",
    key_path: str = "alerting.routing",
) -> RoutingExpectation:
    """Validate ``{forbid_anywhere: [...], routes: [{labels, require, require_any, forbid,
    slack_channel, name}]}``."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(source, key_path, "a mapping with routes and forbid_anywhere")
    for key in mapping:
        if key not in ("routes", "forbid_anywhere"):
            raise ConfigError(source, f"{key_path}.{key}", "no such key; allowed: forbid_anywhere, routes")
    forbid_anywhere = _integrations(mapping.get("forbid_anywhere"), source, f"{key_path}.forbid_anywhere")
    raw_routes = mapping.get("routes")
    if raw_routes is None:
        raw_routes = []
    if not isinstance(raw_routes, list):
        raise ConfigError(source, f"{key_path}.routes", "a list of expected routes")
    if not raw_routes and not forbid_anywhere:
        raise ConfigError(source, key_path, "at least one expected route or forbid_anywhere")
    routes = []
    allowed = {"labels", "require", "require_any", "forbid", "slack_channel", "name"}
    for index, entry in enumerate(raw_routes):
        here = f"{key_path}.routes[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with labels and require")
        for key in entry:
            if key not in allowed:
                raise ConfigError(source, f"{here}.{key}", f"no such key; allowed: {', '.join(sorted(allowed))}")
        labels = _string_map(entry.get("labels"), source, f"{here}.labels", label_names=True)
        if not labels:
            raise ConfigError(source, f"{here}.labels", "the labels of a sample alert, e.g. {severity: P1}")
        channel = entry.get("slack_channel")
        if channel is not None and (not isinstance(channel, str) or not channel.strip()):
            raise ConfigError(source, f"{here}.slack_channel", "a Slack channel such as '#wimmelwelt-prod'")
        name = entry.get("name", "")
        routes.append(
            ExpectedRoute(
                labels=labels,
                require=_integrations(entry.get("require"), source, f"{here}.require"),
                require_any=_integrations(entry.get("require_any"), source, f"{here}.require_any"),
                forbid=_integrations(entry.get("forbid"), source, f"{here}.forbid"),
                slack_channel=channel,
                name=str(name),
            )
        )
    return RoutingExpectation(tuple(routes), forbid_anywhere)


def _integrations(value: Any, source: str, here: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(source, here, f"a list of integrations ({', '.join(sorted(INTEGRATIONS))})")
    names = []
    for index, item in enumerate(value):
        name = str(item).removesuffix("_configs")
        if name not in INTEGRATIONS:
            raise ConfigError(source, f"{here}[{index}]", f"one of {', '.join(sorted(INTEGRATIONS))}")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")  # an absent label is the empty string
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(f"(?:{self.value})", actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


_MATCHER = re.compile(
    r"""\s*(?P<name>[^\s=!~,{}"]+|"(?:[^"\\]|\\.)*")\s*(?P<op>=~|!~|!=|=)\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|[^,}]*?)\s*(?:,|$)"""
)


def parse_matchers(text: str) -> list[Matcher]:
    """Alertmanager matcher syntax: ``severity=~"P1|P2"``, ``{a="b", c!=d}``."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        match = _MATCHER.match(body, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"bad matcher {text!r}")
        name = _unquote(match.group("name"))
        matchers.append(Matcher(name, match.group("op"), _unquote(match.group("value").strip())))
        pos = match.end()
    if not matchers:
        raise ValueError(f"empty matcher {text!r}")
    return matchers


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner)
    return text


@dataclass(frozen=True)
class RouteMatch:
    """A route an alert ends up on: its path in the tree and its (inherited) receiver."""

    path: str
    receiver: str


def route_matchers(route: Mapping[str, Any], path: str = "route") -> list[Matcher]:
    matchers: list[Matcher] = []
    for index, item in enumerate(route.get("matchers") or ()):
        try:
            matchers.extend(parse_matchers(str(item)))
        except ValueError as exc:
            raise ConfigError("alertmanager config", f"{path}.matchers[{index}]", str(exc)) from None
    for name, value in (route.get("match") or {}).items():
        matchers.append(Matcher(str(name), "=", str(value)))
    for name, value in (route.get("match_re") or {}).items():
        matchers.append(Matcher(str(name), "=~", str(value)))
    return matchers


def match_routes(route: Mapping[str, Any], labels: Mapping[str, str]) -> list[RouteMatch]:
    """The routes an alert with ``labels`` is delivered by, as Alertmanager decides."""
    return _match(route, labels, "route", "")


def _match(route: Mapping[str, Any], labels: Mapping[str, str], path: str, parent_receiver: str) -> list[RouteMatch]:
    if not all(m.matches(labels) for m in route_matchers(route, path)):
        return []
    receiver = str(route.get("receiver") or parent_receiver)
    found: list[RouteMatch] = []
    for index, child in enumerate(route.get("routes") or ()):
        if not isinstance(child, Mapping):
            continue
        hits = _match(child, labels, f"{path}.routes[{index}]", receiver)
        found.extend(hits)
        if hits and not child.get("continue", False):
            break
    return found or [RouteMatch(path, receiver)]


@dataclass(frozen=True)
class _Receiver:
    name: str
    integrations: frozenset[str]
    slack_channels: tuple[str, ...]


def _receivers(config: Mapping[str, Any]) -> dict[str, _Receiver]:
    receivers: dict[str, _Receiver] = {}
    for entry in config.get("receivers") or ():
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("name", ""))
        kinds = frozenset(
            key.removesuffix("_configs")
            for key, value in entry.items()
            if isinstance(key, str) and key.endswith("_configs") and value
        )
        channels = tuple(
            str(slack.get("channel", "")) for slack in entry.get("slack_configs") or () if isinstance(slack, Mapping)
        )
        receivers[name] = _Receiver(name, kinds, channels)
    return receivers


def check_routing(
    alertmanager_config: Mapping[str, Any], expected: RoutingExpectation | Mapping[str, Any]
) -> list[Problem]:
    """Problems of an Alertmanager configuration against the expected routing."""
    if isinstance(expected, Mapping):
        expected = expected_routing(expected)
    problems: list[Problem] = []
    route = alertmanager_config.get("route")
    if not isinstance(route, Mapping):
        return [Problem("alertmanager config", "has no route tree ('route')")]
    receivers = _receivers(alertmanager_config)

    for receiver in receivers.values():
        for kind in expected.forbid_anywhere:
            if kind in receiver.integrations:
                problems.append(
                    Problem(
                        f"receiver {receiver.name!r}",
                        f"has {kind}_configs, forbidden in this environment",
                    )
                )

    for want in expected.routes:
        subject = want.describe()
        try:
            matches = match_routes(route, want.labels)
        except ConfigError as exc:
            problems.append(Problem(subject, str(exc)))
            continue
        via = ", ".join(f"{m.receiver!r} via {m.path}" for m in matches)
        kinds: set[str] = set()
        channels: list[str] = []
        for m in matches:
            target = receivers.get(m.receiver)
            if target is None:
                problems.append(Problem(subject, f"routes to undefined receiver {m.receiver!r} via {m.path}"))
                continue
            kinds |= target.integrations
            channels.extend(target.slack_channels)
        missing = [k for k in want.require if k not in kinds]
        if missing:
            problems.append(Problem(subject, f"reaches {via} without {_configs(missing)}"))
        if want.require_any and not kinds.intersection(want.require_any):
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} without any of {_configs(want.require_any)}",
                )
            )
        present = [k for k in want.forbid if k in kinds]
        if present:
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} which has {_configs(present)} (forbidden)",
                )
            )
        if want.slack_channel is not None and want.slack_channel not in channels:
            shown = ", ".join(repr(c) for c in channels) or "none"
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} without Slack channel {want.slack_channel!r} (channels: {shown})",
                )
            )
    return problems


def _configs(kinds: Iterable[str]) -> str:
    return ", ".join(f"{kind}_configs" for kind in kinds)
