"""Parsers of the ``alerting`` and ``metrics`` sections over their domain modules' validators.

They check the sections' meaning at start (rule names, objectives, watch settings) and
hand the resolved mapping on.
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


def parse_metrics(tree: Any, source: str) -> Mapping[str, Any]:
    from pytest_wimmelgate.metrics import gate, slo

    node = Node(tree, source, "metrics")
    slis = slo.slis_from_mapping(node.raw("slis"), source=source)
    for group in gate.GROUPS:
        if group in node:
            slo.objectives_from_mapping(node.raw(group), source=source, key_path=f"metrics.{group}", slis=slis)
    gate.WatchSettings.from_mapping(node.raw("watch") or {}, source)
    return dict(node.value)
