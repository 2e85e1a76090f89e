"""The observability checks (SG-8, SG-9, SG-10, PD-5, PS-1) as real gate runs against a fake stack.

Each test runs the project's real suites in a subprocess against `fake_observability`
(Elasticsearch, Kibana, an OTLP collector and Grafana in their documented shapes) and the
shared sandbox, then reads the gate summary the run wrote.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from pytest_httpserver import HTTPServer

from pytest_wimmelgate.core.completeness import expected_checks
from tests.gates.conftest import ROOT, check, newest_summary, run_gate
from tests.gates.fake_observability import OTLP_TOKEN, SECRETS, FakeObservability

GATES = ("-m", "staging_gate or post_deploy or prod_smoke")
#: selects exactly the five tests of suites/test_observability.py
OBSERVABILITY = "logs or otlp or grafana or saved or annotation"
CHECK_IDS = ("SG-8", "SG-9", "SG-10", "PD-5", "PS-1")
NODE_PREFIX = "suites/test_observability.py::"
#: the other checks of the three gates: waived, so that the `-k` run of the five is a complete run
OTHERS = [i for i in expected_checks(("staging_gate", "post_deploy", "prod_smoke")) if i not in CHECK_IDS]
OTHER_WAIVERS = "".join(f"  - {{id: {i}, reason: outside the observability checks under test}}\n" for i in OTHERS)


@pytest.fixture
def fake(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> FakeObservability:
    """The fake observability stack; its credentials are exported like staging's CI variables."""
    for name, value in FakeObservability.variables().items():
        monkeypatch.setenv(name, value)
    return FakeObservability(httpserver).install()


def _env_file(pytester: pytest.Pytester, sections: str = "") -> str:
    pytester.makefile(
        ".yaml",
        obs=f"""
extends: {ROOT / "environments" / "sandbox.yaml"}
name: obs
waivers:
{OTHER_WAIVERS}{sections}
""",
    )
    return str(pytester.path / "obs.yaml")


def _run(pytester: pytest.Pytester, env: str, *extra: str, select: str = OBSERVABILITY) -> pytest.RunResult:
    return run_gate(pytester, *GATES, "-k", select, "--wg-env", env, *extra, timeout=60)


def _assert_no_secret(pytester: pytest.Pytester, result: pytest.RunResult, *secrets: str) -> None:
    __tracebackhide__ = True
    output = result.stdout.str() + result.stderr.str()
    files = [p for p in (pytester.path / "rel").rglob("*") if p.is_file()]
    assert files, "the gate run wrote no release folder"
    for secret in secrets:  # pytest.fail, not assert: the failure message must not quote the secret
        for variant in {secret, quote(secret, safe=""), quote_plus(secret)}:
            if variant in output:
                pytest.fail(f"secret {secret[:6]}... in the terminal output")
            for path in files:
                if variant.encode() in path.read_bytes():
                    pytest.fail(f"secret {secret[:6]}... in {path.relative_to(pytester.path)}")


def _only_observability(summary: dict[str, Any]) -> None:
    __tracebackhide__ = True
    assert sorted(c["id"] for c in summary["checks"]) == sorted(CHECK_IDS)
    assert all(c["nodeid"].startswith(NODE_PREFIX) for c in summary["checks"])


def _one_line(reason: str | None) -> bool:
    return bool(reason) and reason is not None and "\n" not in reason and reason.strip() == reason


@pytest.mark.full_report
def test_healthy_stack_is_go_and_posts_the_release_annotation(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], fake: FakeObservability
) -> None:
    env = _env_file(pytester, fake.environment_sections())

    result = _run(pytester, env, "--wg-version", "9.9.9", "--wg-commit", "abc1234")

    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    _only_observability(summary)
    assert summary["verdict"] == "GO" and summary["reasons"] == []
    for check_id in CHECK_IDS:
        assert check(summary, check_id)["outcome"] == "passed", check(summary, check_id)
    assert summary["waivers"] == []
    # PS-1: one organisation-wide "Release" annotation for this version and commit
    [annotation] = fake.annotations
    assert annotation["text"] == "Release 9.9.9 (abc1234)"
    assert {"release", "obs", "9.9.9", summary["run_id"]} <= set(annotation["tags"])
    # SG-8: the marker search asked for this run's id, and only for it
    assert fake.marker_searches and set(fake.marker_searches) == {summary["run_id"]}
    # SG-9: one export with the token, one without
    assert fake.exports == [f"Bearer {OTLP_TOKEN}", None]
    assert fake.unknown == []
    _assert_no_secret(pytester, result, *SECRETS)


@pytest.mark.full_report
def test_grafana_rejecting_the_token_is_no_go_naming_sg10_and_ps1(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], fake: FakeObservability
) -> None:
    fake.grafana_unauthorized = True
    env = _env_file(pytester, fake.environment_sections())

    result = _run(pytester, env, "--wg-version", "9.9.9", "--wg-commit", "abc1234")

    assert result.ret == 1, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "NO-GO"
    for check_id in ("SG-10", "PS-1"):
        item = check(summary, check_id)
        assert item["outcome"] == "failed", item
        assert item["category"] == "configuration missing", item
        assert _one_line(item["reason"]) and "401" in item["reason"], item
        assert any(r.startswith(f"{check_id}:") for r in summary["reasons"])
    assert {check(summary, i)["outcome"] for i in ("SG-8", "SG-9", "PD-5")} == {"passed"}
    assert fake.annotations == []
    _assert_no_secret(pytester, result, *SECRETS)


@pytest.mark.full_report
def test_missing_run_marker_is_no_data_naming_the_index_pattern(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], fake: FakeObservability
) -> None:
    fake.marker_present = False
    env = _env_file(pytester, fake.environment_sections())

    result = _run(pytester, env, select="logs")

    assert result.ret == 1, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    sg8 = check(summary, "SG-8")
    assert sg8["outcome"] == "failed" and sg8["category"] == "no data", sg8
    assert _one_line(sg8["reason"]) and fake.index_pattern in sg8["reason"], sg8
    assert summary["run_id"] in sg8["reason"]
    assert len(set(fake.marker_searches)) == 1 and len(fake.marker_searches) >= 2  # it polled
    assert [r.split(":")[0] for r in summary["reasons"] if not r.startswith("incomplete:")] == ["SG-8"]
    _assert_no_secret(pytester, result, *SECRETS)


@pytest.mark.full_report
def test_collector_accepting_exports_without_a_token_is_a_product_defect(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], fake: FakeObservability
) -> None:
    fake.collector_requires_token = False
    env = _env_file(pytester, fake.environment_sections())

    result = _run(pytester, env, select="otlp")

    assert result.ret == 1, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    sg9 = check(summary, "SG-9")
    assert sg9["outcome"] == "failed" and sg9["category"] == "product defect", sg9
    assert _one_line(sg9["reason"]) and "without a token" in sg9["reason"], sg9
    assert fake.exports == [f"Bearer {OTLP_TOKEN}", None]
    _assert_no_secret(pytester, result, *SECRETS)


def test_unconfigured_and_unwaived_sections_are_no_go(pytester: pytest.Pytester, sandbox_env: dict[str, str]) -> None:
    env = _env_file(pytester)

    result = _run(pytester, env)

    assert result.ret == 1, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    _only_observability(summary)
    assert summary["verdict"] == "NO-GO" and summary["waivers"] == []
    for check_id in ("SG-8", "SG-9", "SG-10"):
        item = check(summary, check_id)
        assert item["outcome"] == "skipped" and item["waiver"] is None, item
        assert item["reason"].startswith("not configured"), item
        assert any(r.startswith(f"{check_id}: required check did not run") for r in summary["reasons"]), summary[
            "reasons"
        ]


def test_sandbox_environment_waives_the_missing_stack(pytester: pytest.Pytester, sandbox_env: dict[str, str]) -> None:
    result = run_gate(
        pytester, "-m", "staging_gate", "--wg-env", str(ROOT / "environments" / "sandbox.yaml"), timeout=120
    )

    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["reasons"] == [] and summary["complete"] is True
    for check_id in ("SG-8", "SG-9", "SG-10"):
        item = check(summary, check_id)
        assert item["outcome"] == "skipped" and item["reason"].startswith("not configured"), item
        assert item["waiver"], item
    assert sorted(w["id"] for w in summary["waivers"]) == ["SG-10", "SG-8", "SG-9"]
    assert all(w["reason"] for w in summary["waivers"])


@pytest.mark.full_report
def test_otlp_token_written_in_the_environment_file_stays_hidden(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], fake: FakeObservability, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = FakeObservability.variables()["OTEL_EXPORTER_OTLP_HEADERS"]
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_HEADERS")
    fake.collector_requires_token = False  # SG-9 fails: its traceback is printed and stored
    env = _env_file(pytester, fake.environment_sections().replace("${OTEL_EXPORTER_OTLP_HEADERS}", f'"{headers}"'))

    result = _run(pytester, env, select="otlp")

    assert result.ret == 1, result.stdout.str()[-3000:]
    assert check(newest_summary(pytester), "SG-9")["category"] == "product defect"
    _assert_no_secret(pytester, result, OTLP_TOKEN)
