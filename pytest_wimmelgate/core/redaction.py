"""Redaction of pytest's own reports: what the terminal, JUnit and Allure read of a test."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from pytest_wimmelgate.config.secrets import SecretSet


def redact_report(report: pytest.TestReport, secrets: SecretSet) -> None:
    """Remove secret values from what the terminal, JUnit and Allure read of a report."""
    if not secrets.values:
        return
    if isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, secrets.redact(str(message)))
    elif isinstance(report.longrepr, str):
        report.longrepr = secrets.redact(report.longrepr)
    elif report.longrepr is not None:
        _redact_object(report.longrepr, secrets, depth=0)
    report.sections = [(title, secrets.redact(content)) for title, content in report.sections]


def _redact_object(node: Any, secrets: SecretSet, depth: int) -> Any:
    """Redact strings inside pytest's repr objects in place (they are plain dataclasses)."""
    if isinstance(node, str):
        return secrets.redact(node)
    if depth > 12 or node is None or isinstance(node, (int, float, bool, bytes)):
        return node
    if isinstance(node, list):
        node[:] = [_redact_object(v, secrets, depth + 1) for v in node]
        return node
    if isinstance(node, tuple):
        return tuple(_redact_object(v, secrets, depth + 1) for v in node)
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _redact_object(node[key], secrets, depth + 1)
        return node
    attributes = getattr(node, "__dict__", None)
    if attributes is not None:
        for name, value in list(attributes.items()):
            redacted = _redact_object(value, secrets, depth + 1)
            if redacted is not value:
                with contextlib.suppress(AttributeError, TypeError):
                    object.__setattr__(node, name, redacted)
    return node
