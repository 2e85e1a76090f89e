"""AL-1 and AL-2: the minimal alert rule set and the Alertmanager routing (runbook 7).

The package, one idea per module:

- `rule_files` — Prometheus rule files loaded and checked as ``promtool`` does;
- `expected_rules` — the ``alerting.rules`` expectations (`expected_rules`) and AL-1's
  comparison (`check_rules`, with its documented threshold heuristic);
- `routing` — the ``alerting.routing`` expectations (`expected_routing`) and AL-2's
  check of an Alertmanager configuration (`check_routing`);
- `matchers` — Alertmanager's matcher syntax and route tree walk;
- `problem` — one finding, as both checks report it.
"""

from __future__ import annotations

from pytest_wimmelgate.domain.alerting.expected_rules import (
    ExpectedAlert,
    check_rules,
    expected_rules,
    numbers_in,
    windows_in,
)
from pytest_wimmelgate.domain.alerting.matchers import (
    Matcher,
    RouteMatch,
    match_routes,
    parse_matchers,
    route_matchers,
)
from pytest_wimmelgate.domain.alerting.problem import Problem
from pytest_wimmelgate.domain.alerting.routing import (
    INTEGRATIONS,
    ExpectedRoute,
    RoutingExpectation,
    check_routing,
    expected_routing,
)
from pytest_wimmelgate.domain.alerting.rule_files import (
    PROMTOOL_TIMEOUT_S,
    flatten,
    load_rule_file,
    load_rule_files,
    promtool_path,
    run_promtool,
    validate_rule_document,
)

__all__ = [
    "INTEGRATIONS",
    "PROMTOOL_TIMEOUT_S",
    "ExpectedAlert",
    "ExpectedRoute",
    "Matcher",
    "Problem",
    "RouteMatch",
    "RoutingExpectation",
    "check_routing",
    "check_rules",
    "expected_routing",
    "expected_rules",
    "flatten",
    "load_rule_file",
    "load_rule_files",
    "match_routes",
    "numbers_in",
    "parse_matchers",
    "promtool_path",
    "route_matchers",
    "run_promtool",
    "validate_rule_document",
    "windows_in",
]
