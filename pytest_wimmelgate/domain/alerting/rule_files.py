"""AL-1's input: Prometheus rule files, loaded and checked as ``promtool check rules`` does.

`load_rule_file` reads a rule file and checks its structure (``groups`` list, unique
non-empty group names, each rule exactly one of ``alert``/``record``, non-empty ``expr``,
``for`` a valid duration, ``labels``/``annotations`` maps of strings, no unknown keys, no
duplicate keys), raising `ConfigError(file, key_path, expected)`. When ``promtool`` is on
PATH it then runs ``promtool check rules FILE`` too (that also parses the PromQL) and puts
promtool's message into the error. No error quotes a label or annotation value.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config import yamlfile
from pytest_wimmelgate.config.fields import check_keys
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics.slo import parse_duration
from pytest_wimmelgate.probes.prometheus import Rule, RuleGroup

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TOP_KEYS = frozenset({"groups"})
_GROUP_KEYS = frozenset({"name", "interval", "limit", "query_offset", "labels", "rules"})
_RULE_KEYS = frozenset({"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"})
PROMTOOL_TIMEOUT_S = 30.0


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
    check_keys(document, _TOP_KEYS, source, "")
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
        check_keys(group, _GROUP_KEYS, source, here)
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
        interval = duration_field(group, "interval", source, here) if "interval" in group else 0.0
        if "labels" in group:
            string_map(group["labels"], source, f"{here}.labels", label_names=True)
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
    check_keys(rule, _RULE_KEYS, source, here)
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
    for_s = duration_field(rule, "for", source, here, what) if "for" in rule else 0.0
    if "keep_firing_for" in rule:
        duration_field(rule, "keep_firing_for", source, here, what)
    labels = string_map(rule.get("labels"), source, f"{here}.labels", label_names=True, what=what)
    annotations = string_map(rule.get("annotations"), source, f"{here}.annotations", what=what)
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


def duration_field(entry: Mapping[str, Any], key: str, source: str, here: str, what: str = "") -> float:
    """``entry[key]`` as a Prometheus duration in seconds."""
    try:
        return parse_duration(entry[key])
    except ValueError:
        suffix = f" {what}" if what else ""
        raise ConfigError(source, f"{here}.{key}", f"a Prometheus duration such as 30s, 5m, 1h{suffix}") from None


def string_map(value: Any, source: str, here: str, *, label_names: bool = False, what: str = "") -> dict[str, str]:
    """A mapping of (label) names to strings; the error never quotes a value."""
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
            raise ConfigError(source, f"{here}.{key}", f"a string (quote it){suffix}")
        result[key] = item
    return result


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
