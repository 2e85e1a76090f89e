"""Rollback validated (runbook 3): N-1 serves and is ready, its artifact is available,
applied migrations match N-1. Run it with ``--wg-version <N-1>``. PF-3, GL-3 and RV-4
belong to this gate too (see test_preflight, test_golive, test_metrics)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.contract import health
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.domain import migrations
from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError
from pytest_wimmelgate.probes import s3
from pytest_wimmelgate.probes.http import call


def _previous_version(wg_run: RunContext) -> str:
    if not wg_run.version_expected:
        raise CheckFailed(
            Category.CONFIG, "the N-1 version is unknown: run rollback_validation with --wg-version <N-1>"
        )
    return wg_run.version


@pytest.mark.check("RV-1")
def test_serving_version_is_n_minus_1_and_ready(
    backend: ContractClient, readiness_values: dict[str, Any], wg_run: RunContext, evidence: Evidence
) -> None:
    expected = _previous_version(wg_run)
    found = health.release(backend)
    readiness = health.readiness(backend, readiness_values)
    evidence.json(
        "serving",
        {"release": {"request": found.label, "version": found.version}, "readiness": readiness.evidence()},
    )
    health.require_release(found, backend, version=expected, commit=None, role="N-1 ")
    health.require_ready(readiness, backend, context="N-1 is serving but ")


@pytest.mark.check("RV-2")
def test_artifact_n_minus_1_is_available(
    wg_env: Environment, wg_run: RunContext, wg_environ: dict[str, str], evidence: Evidence
) -> None:
    version = _previous_version(wg_run)
    template = wg_env.get("artifacts.url_template", None)
    if template:
        url = str(template).replace("{version}", version)
        answer = call(
            "HEAD", url, timeout=float(wg_env.get("artifacts.timeout_s", 10)), expect=(200,), what=f"artifact {version}"
        )
        evidence.json("artifact", answer.evidence())
        return
    bucket = str(wg_env.get("artifacts.s3.bucket"))
    key = str(wg_env.get("artifacts.s3.key_template")).replace("{version}", version)
    where = s3.S3Location(
        bucket,
        "",
        wg_env.get("artifacts.s3.endpoint_url", None),
        str(wg_env.get("artifacts.s3.region", "eu-central-1")),
    )
    client = s3.client_from_environ(
        where,
        wg_environ,
        str(wg_env.get("artifacts.s3.access_key_variable", "AWS_ACCESS_KEY_ID")),
        str(wg_env.get("artifacts.s3.secret_key_variable", "AWS_SECRET_ACCESS_KEY")),
    )
    try:
        size = s3.object_size(client, where, key)
    except ProbeError as error:
        if "code" not in error.evidence:  # no answer from S3 at all
            raise CheckFailed(Category.INFRASTRUCTURE, f"artifact store unreachable ({error.reason})") from None
        code = error.evidence["code"]
        raise CheckFailed(Category.PRODUCT, f"artifact s3://{bucket}/{key} not available ({code})") from None
    evidence.json("artifact", {"bucket": bucket, "key": key, "size": size})


@pytest.mark.check("RV-3")
def test_applied_migrations_match_n_minus_1(
    wg_env: Environment, wg_environ: dict[str, str], pytestconfig: pytest.Config, evidence: Evidence
) -> None:
    settings = migrations.parse_migration_settings(wg_env.get("migrations", None), wg_env.source)
    result = migrations.run_applied_match(settings, wg_environ, pytestconfig.rootpath)
    evidence.json("applied migrations", result.evidence())
    result.raise_for_failure()
