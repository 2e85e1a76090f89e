"""The plugin's small error hierarchy: configuration errors and failed checks."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """Why a check failed; each one is an Allure category of the same name."""

    INFRASTRUCTURE = "infrastructure unreachable"
    SLO = "SLO violated"
    CONFIG = "configuration missing"
    PRODUCT = "product defect"
    NO_DATA = "no data"
    ADVISORY = "advisory"
    CONTRACT = "contract mismatch"

    def __str__(self) -> str:
        return self.value


class WimmelgateError(Exception):
    """Base class of every error the plugin raises on purpose."""


class ConfigError(WimmelgateError):
    """A bad environment file, option or input file: names the source and key path."""

    def __init__(self, source: str, key_path: str, expected: str) -> None:
        self.source = source
        self.key_path = key_path
        self.expected = expected
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(f"{where}: {expected}")


class NotConfigured(WimmelgateError):
    """A setting a check needs is absent from the environment file: the check skips."""

    def __init__(self, key_path: str) -> None:
        self.key_path = key_path
        super().__init__(f"not configured: {key_path}")


class CheckFailed(WimmelgateError):
    """A check that measured and found a problem, or could not measure at all.

    ``str()`` gives the one-line reason prefixed by its category, e.g.
    ``[infrastructure unreachable] GET http://127.0.0.1:9/health: connection refused``.
    """

    def __init__(self, category: Category, reason: str, evidence: dict[str, Any] | None = None) -> None:
        self.category = category
        self.reason = " ".join(reason.split())
        self.evidence = evidence or {}
        super().__init__(f"[{category}] {self.reason}")


class ProbeError(CheckFailed):
    """A probe of an external system failed (unreachable, rejected, malformed answer)."""
