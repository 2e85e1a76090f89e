"""Rollback validated (runbook 3): the N-1 version under test and RV-2, its artifact is available.

A rollback_validation run names N-1 with ``--wg-version``; without it the checks that need
it fail as ``configuration missing``. RV-2 looks for the artifact at the ``artifacts``
section's URL template (HTTP ``HEAD``) or in its S3 store (credentials by variable name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pytest_wimmelgate.domain.result import CheckResult, Observed, measured
from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError

if TYPE_CHECKING:
    from pytest_wimmelgate.config.sections.release import ArtifactSettings
    from pytest_wimmelgate.core.run import RunContext


def previous_version(run: RunContext) -> str:
    """The N-1 version this run validates; `CheckFailed` (configuration) when the run names none."""
    if not run.version_expected:
        raise CheckFailed(
            Category.CONFIG, "the N-1 version is unknown: run rollback_validation with --wg-version <N-1>"
        )
    return run.version


def check_artifact_available(settings: ArtifactSettings, run: RunContext, environ: Mapping[str, str]) -> CheckResult:
    """RV-2: the N-1 artifact answers ``HEAD`` at the URL template, or exists in the S3 store.

    ``environ`` holds the run's interpolation values, where the S3 credentials are read by
    the variable names the section gives.
    """

    def probe(seen: Observed) -> None:
        version = previous_version(run)
        url = settings.url_for(version)
        if url is not None:
            from pytest_wimmelgate.probes.http import call

            answer = call("HEAD", url, timeout=settings.timeout_s, expect=(200,), what=f"artifact {version}")
            seen.evidence.update(answer.evidence())
            return
        assert settings.s3 is not None  # the parser requires url_template or s3
        seen.evidence.update(_s3_artifact(settings, version, environ))

    return measured("RV-2", "the N-1 artifact is available for a redeploy", probe)


def _s3_artifact(settings: ArtifactSettings, version: str, environ: Mapping[str, str]) -> dict[str, object]:
    from pytest_wimmelgate.probes import s3

    store = settings.s3
    assert store is not None
    key = store.key_template.replace("{version}", version)
    where = s3.S3Location(store.bucket, "", store.endpoint_url, store.region)
    client = s3.client_from_environ(where, environ, store.access_key_variable, store.secret_key_variable)
    try:
        size = s3.object_size(client, where, key)
    except ProbeError as error:
        if "code" not in error.evidence:  # no answer from S3 at all
            raise CheckFailed(Category.INFRASTRUCTURE, f"artifact store unreachable ({error.reason})") from None
        code = error.evidence["code"]
        raise CheckFailed(Category.PRODUCT, f"artifact s3://{store.bucket}/{key} not available ({code})") from None
    return {"bucket": store.bucket, "key": key, "size": size}
