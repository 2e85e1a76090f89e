"""Fixtures for the plugin's own tests: inner gate runs with pytester."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_wimmelgate.catalogue import checks as catalogue

OUTSIDE = "outside this synthetic gate (the test implements only some of the gate's checks)"


@pytest.fixture
def gate_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with a minimal environment file ``env.yaml``.

    The tests here run synthetic gates that implement a few catalogue checks. Whole gates
    only: a gate's other checks would make every run incomplete, so just before each inner
    run the environment file waives, by id and with a reason, every catalogue check that no
    test file of the folder implements. The checks under test are never waived here.
    """
    pytester.makefile(".yaml", env="name: testenv\nprotected: false\n")
    for name in ("runpytest", "runpytest_subprocess", "runpytest_inprocess"):
        setattr(pytester, name, _completing(pytester, getattr(pytester, name)))
    return pytester


def _completing(pytester: pytest.Pytester, run: Callable[..., pytest.RunResult]) -> Callable[..., pytest.RunResult]:
    def completed_run(*args: Any, **kwargs: Any) -> pytest.RunResult:
        waive_unimplemented_checks(pytester.path)
        return run(*args, **kwargs)

    return completed_run


def waive_unimplemented_checks(folder: Path) -> None:
    """Add a waiver to ``env.yaml`` for each catalogue check no test file in ``folder`` names."""
    env_file = folder / "env.yaml"
    if not env_file.is_file():
        return
    implemented = {m for path in folder.glob("*.py") for m in re.findall(r"check\(['\"]([A-Z]+-\d+)", path.read_text())}
    data = yaml.safe_load(env_file.read_text()) or {}
    waivers = list(data.get("waivers") or [])
    waived = {str(w.get("id")) for w in waivers}
    waivers += [{"id": c.id, "reason": OUTSIDE} for c in catalogue.CHECKS if c.id not in implemented | waived]
    data["waivers"] = waivers
    env_file.write_text(yaml.safe_dump(data, sort_keys=False))


def run_summary(pytester: pytest.Pytester) -> dict[str, Any]:
    """The gate-summary.json of the newest run folder under ``rel``."""
    found = sorted(Path(pytester.path, "rel").rglob("gate-summary.json"), key=lambda p: p.stat().st_mtime)
    assert found, "no gate-summary.json written"
    return dict(json.loads(found[-1].read_text()))


def gate_args(*extra: str) -> list[str]:
    return ["-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir", "rel", *extra]
