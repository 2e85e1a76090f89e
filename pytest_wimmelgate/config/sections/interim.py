"""Parser of the ``alerting`` section over the alerting domain's validators.

It checks the section's meaning at start (rule names, thresholds, routes) and hands the
resolved mapping on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node


def parse_alerting(tree: Any, source: str) -> Mapping[str, Any]:
    from pytest_wimmelgate.domain import alerting

    node = Node(tree, source, "alerting")
    if "rules" in node:
        alerting.expected_rules(node.raw("rules"), source=source)
    if "routing" in node:
        alerting.expected_routing(node.raw("routing"), source=source)
    return dict(node.value)
