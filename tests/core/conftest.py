"""Fixtures for the plugin's own tests: inner gate runs with pytester."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def gate_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with a minimal environment file ``env.yaml``."""
    pytester.makefile(".yaml", env="name: testenv\nprotected: false\n")
    return pytester


def run_summary(pytester: pytest.Pytester) -> dict[str, Any]:
    """The gate-summary.json of the newest run folder under ``rel``."""
    found = sorted(Path(pytester.path, "rel").rglob("gate-summary.json"), key=lambda p: p.stat().st_mtime)
    assert found, "no gate-summary.json written"
    return dict(json.loads(found[-1].read_text()))


def gate_args(*extra: str) -> list[str]:
    return ["-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir", "rel", *extra]
