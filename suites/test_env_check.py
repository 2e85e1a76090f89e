"""Env vars and secrets of the target environment (runbook 6): EV-1 … EV-6.

The variables come from ``--wg-env-file`` (dotenv) or the process environment (CI runs
the gate with the target's variables). Failures name the variable and the rule, never
a value; contamination is compared by keyed fingerprint.
"""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.fingerprint import fingerprint_key
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.domain import envcheck
from pytest_wimmelgate.errors import NotConfigured

EnvResults = dict[str, envcheck.EnvResult]


@pytest.fixture(scope="session")
def variable_rules(wg_settings: RunSettings) -> envcheck.VariableRules:
    """The mandatory variables and value rules of this environment (``variables``)."""
    rules: envcheck.VariableRules = wg_settings.get("variables")
    return rules


@pytest.fixture(scope="session")
def env_results(
    variable_rules: envcheck.VariableRules, target_variables: dict[str, str], wg_environ: dict[str, str]
) -> EnvResults:
    """EV-1 … EV-6 evaluated once for the session."""
    return envcheck.run_all(target_variables, variable_rules, key=fingerprint_key(wg_environ), environ=wg_environ)


EV_CHECKS = [
    pytest.param(i, marks=pytest.mark.check(i), id=i) for i in ("EV-1", "EV-2", "EV-3", "EV-4", "EV-5", "EV-6")
]


@pytest.mark.parametrize("check_id", EV_CHECKS)
def test_environment_variables(check_id: str, env_results: EnvResults, evidence: Evidence) -> None:
    result = env_results.get(check_id)
    if result is None:
        raise NotConfigured(f"variables ({check_id})")
    evidence.judge(check_id, result)
