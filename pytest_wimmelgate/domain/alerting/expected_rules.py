"""AL-1 judged: the alert rules an environment expects, compared with rules found.

Expected rules (``alerting.rules`` in an environment file; numbers may be texts)::

    ReadinessFailureRate: {threshold: 0.5, unit: "%", window: 5m, labels: {severity: P2}}
    LoggingSilence: {window: 30m}

`check_rules` compares rules — from files or from Prometheus' ``/api/v1/rules`` — with
these expectations.

Threshold heuristic (documented on purpose, it is a heuristic): the numbers written in
an alert's ``expr`` are collected after removing string literals, range/subquery
selectors ``[5m]``/``[1h:1m]``, ``offset``/``@`` modifiers and numbers that are part of
identifiers; the expected threshold must equal one of them (relative tolerance 1e-9).
With ``unit: "%"`` the ratio form also counts (0.5 % ⇔ 0.005), with ``unit: ms`` the
seconds form (500 ms ⇔ 0.5). The check cannot see which side of a comparison a number
stands on, and a threshold equal to another literal in the expression (e.g. the 0.95 of
``histogram_quantile``) would be found there. The window is satisfied by a range
selector of that duration in ``expr`` or by a ``for`` of that duration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.fields import as_number, check_keys
from pytest_wimmelgate.domain.alerting.problem import Problem
from pytest_wimmelgate.domain.alerting.rule_files import string_map
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics.slo import parse_duration
from pytest_wimmelgate.probes.prometheus import Rule

EXPECTATION_KEYS = ("threshold", "unit", "window", "labels")


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
    result: list[ExpectedAlert] = []
    for name, entry in mapping.items():
        here = f"{key_path}.{name}"
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with threshold, unit, window, labels")
        check_keys(entry, EXPECTATION_KEYS, source, here)
        raw_threshold = entry.get("threshold")
        threshold = None if raw_threshold is None else as_number(raw_threshold)
        if raw_threshold is not None and threshold is None:
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
        labels = string_map(entry.get("labels"), source, f"{here}.labels", label_names=True)
        result.append(
            ExpectedAlert(
                str(name),
                threshold,
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
