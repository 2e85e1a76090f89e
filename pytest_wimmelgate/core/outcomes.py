"""Turn a test's report into the verdict's view: outcome, category, one-line reason."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError, NotConfigured

SAFETY_PREFIX = "safety:"


def first_line(text: str, limit: int = 300) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            line = " ".join(line.split())
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


def classify(excinfo: pytest.ExceptionInfo[BaseException] | None) -> tuple[str | None, str | None]:
    """(category, reason) of a failed phase; ``(None, None)`` when nothing was raised."""
    if excinfo is None:
        return None, None
    error = excinfo.value
    if isinstance(error, CheckFailed):
        return str(error.category), error.reason
    if isinstance(error, ConfigError):
        return str(Category.CONFIG), str(error)
    if isinstance(error, AssertionError):
        text = first_line(str(error)) or "assertion failed"
        return str(Category.PRODUCT), text
    if isinstance(error, pytest.skip.Exception):
        return None, first_line(str(error.msg if hasattr(error, "msg") else error))
    name = type(error).__name__
    return str(Category.PRODUCT), first_line(f"{name}: {error}") or name


def skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
        return text[len("Skipped: ") :] if text.startswith("Skipped: ") else text
    return first_line(str(longrepr)) if longrepr else "skipped"


def is_not_configured(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    return excinfo is not None and isinstance(excinfo.value, NotConfigured)
