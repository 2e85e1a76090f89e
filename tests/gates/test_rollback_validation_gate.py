"""rollback_validation on the sandbox: N-1 serving (RV-1), its artifact (RV-2), migrations (RV-3)."""

from __future__ import annotations

import boto3
import pytest

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.gates.conftest import ROOT, check, newest_summary, run_gate

MIGRATIONS = ROOT / "pytest_wimmelgate" / "sandbox" / "migrations"


def _env(pytester: pytest.Pytester, extra: str = "") -> str:
    pytester.makefile(
        ".yaml",
        rollback=f"""extends: {ROOT / "environments" / "sandbox.yaml"}
name: rollback
artifacts:
  s3:
    bucket: ${{SANDBOX_S3_BUCKET}}
    endpoint_url: ${{SANDBOX_S3_ENDPOINT}}
    key_template: "artifacts/wimmelwelt-backend-{{version}}.tar.gz"
    access_key_variable: SANDBOX_S3_ACCESS_KEY_ID
    secret_key_variable: SANDBOX_S3_SECRET_ACCESS_KEY
{extra}""",
    )
    return "rollback.yaml"


@pytest.mark.parametrize(("version", "passed"), [("0.0.0-sandbox", True), ("1.4.1", False)])
def test_rv1_checks_the_serving_version(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], version: str, passed: bool
) -> None:
    run_gate(
        pytester, "-m", "rollback_validation", "-k", "serving", "--wg-env", _env(pytester), "--wg-version", version
    )
    rv1 = check(newest_summary(pytester), "RV-1")
    assert (rv1["outcome"] == "passed") is passed, rv1
    if not passed:
        assert rv1["reason"] == "/health reports version '0.0.0-sandbox', expected N-1 '1.4.1'"


def test_rv1_without_a_version_says_how_to_give_it(pytester: pytest.Pytester, sandbox_env: dict[str, str]) -> None:
    run_gate(pytester, "-m", "rollback_validation", "-k", "serving", "--wg-env", _env(pytester))
    rv1 = check(newest_summary(pytester), "RV-1")
    assert rv1["category"] == "configuration missing" and "--wg-version <N-1>" in rv1["reason"]


def test_rv2_finds_the_n_minus_1_artifact_in_s3(
    pytester: pytest.Pytester, sandbox: SandboxInfo, sandbox_env: dict[str, str]
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.s3_endpoint,
        region_name=sandbox.s3_region,
        aws_access_key_id=sandbox.s3_access_key_id,
        aws_secret_access_key=sandbox.s3_secret_access_key,
    )
    s3.put_object(Bucket=sandbox.s3_bucket, Key="artifacts/wimmelwelt-backend-1.4.1.tar.gz", Body=b"tarball")
    run_gate(
        pytester, "-m", "rollback_validation", "-k", "artifact", "--wg-env", _env(pytester), "--wg-version", "1.4.1"
    )
    assert check(newest_summary(pytester), "RV-2")["outcome"] == "passed"
    run_gate(
        pytester, "-m", "rollback_validation", "-k", "artifact", "--wg-env", _env(pytester), "--wg-version", "1.3.9"
    )
    rv2 = check(newest_summary(pytester), "RV-2")
    assert rv2["outcome"] == "failed"
    assert "artifacts/wimmelwelt-backend-1.3.9.tar.gz not available" in rv2["reason"]


@pytest.mark.parametrize(
    ("previous", "passed"),
    [
        (sorted(p.name for p in MIGRATIONS.glob("*.js")), True),
        (sorted(p.name for p in MIGRATIONS.glob("*.js"))[:1], False),
    ],
)
def test_rv3_compares_applied_migrations_with_n_minus_1(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], previous: list[str], passed: bool
) -> None:
    listed = ", ".join(previous)
    env = _env(
        pytester,
        f"""migrations:
  folder: {MIGRATIONS}
  uri_variable: SANDBOX_MONGODB_URI
  previous_files: [{listed}]
""",
    )
    run_gate(pytester, "-m", "rollback_validation", "-k", "migrations_match", "--wg-env", env)
    rv3 = check(newest_summary(pytester), "RV-3")
    assert (rv3["outcome"] == "passed") is passed, rv3
    if not passed:
        assert "20261115090000-add-upload-storage-field.js" in rv3["reason"]
