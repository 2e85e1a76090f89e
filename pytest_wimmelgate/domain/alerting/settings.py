"""The ``alerting`` section (AL-1, AL-2) as frozen settings, parsed once at start.

Where the rules come from (``rule_files``, else Prometheus at ``prometheus_url``, else the
``metrics`` section's Prometheus), where the routing comes from
(``alertmanager_config_file``, else the ``alertmanager`` section's API), and what both
must hold (``rules``, ``routing``, checked by `expected_rules` and `expected_routing`).
An unknown key is refused in the one wording of every section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node
from pytest_wimmelgate.domain.alerting.expected_rules import ExpectedAlert, expected_rules
from pytest_wimmelgate.domain.alerting.routing import RoutingExpectation, expected_routing

SECTION = "alerting"
SECTION_KEYS = ("prometheus_url", "rule_files", "alertmanager_config_file", "rules", "routing")


@dataclass(frozen=True)
class AlertingSettings:
    """The parsed ``alerting`` section; paths are as written (relative to the project root)."""

    rules: tuple[ExpectedAlert, ...] | None = None
    routing: RoutingExpectation | None = None
    rule_files: tuple[str, ...] = ()
    alertmanager_config_file: str | None = None
    prometheus_url: str | None = None


def parse_alerting(tree: Any, source: str) -> AlertingSettings:
    """The ``alerting`` section; `ConfigError` with the file and key path on the first mistake."""
    node = Node(tree, source, SECTION)
    node.only(SECTION_KEYS)
    rules = tuple(expected_rules(node.raw("rules"), source=source)) if "rules" in node else None
    routing = expected_routing(node.raw("routing"), source=source) if "routing" in node else None
    return AlertingSettings(
        rules=rules,
        routing=routing,
        rule_files=node.texts("rule_files"),
        alertmanager_config_file=node.optional_text("alertmanager_config_file"),
        prometheus_url=node.optional_url("prometheus_url"),
    )
