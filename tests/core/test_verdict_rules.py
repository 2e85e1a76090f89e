"""Verdict rules end to end: inner gate runs and their exit status and summary."""

from __future__ import annotations

import pytest

from tests.core.conftest import gate_args, run_summary

PASSING = """
import pytest
@pytest.mark.check("SG-1")
def test_health(): pass
@pytest.mark.check("SG-2")
def test_ready(): pass
"""


def test_all_checks_passing_is_go(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile(PASSING)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*VERDICT: GO*"])
    summary = run_summary(gate_dir)
    assert summary["schema"] == "wimmelgate/gate-summary/v1"
    assert summary["verdict"] == "GO"
    assert summary["gates"] == ["staging_gate"]
    assert summary["counts"] == {"passed": 2, "failed": 0, "skipped": 0, "warned": 0, "interrupted": 0}
    assert summary["complete"] is True
    assert [c["id"] for c in summary["checks"]] == ["SG-1", "SG-2"]
    assert summary["checks"][0]["severity"] == "critical" and summary["checks"][0]["required"] is True


def test_failing_blocker_is_no_go_with_its_reason(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import allure, pytest
        from pytest_wimmelgate.errors import CheckFailed, Category
        @pytest.mark.check("SG-2")
        @allure.severity(allure.severity_level.BLOCKER)
        def test_ready():
            raise CheckFailed(Category.INFRASTRUCTURE, "GET http://127.0.0.1:9/readiness: unreachable")
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*NO-GO*SG-2*GET http://127.0.0.1:9/readiness: unreachable*", "*VERDICT: NO-GO*"])
    summary = run_summary(gate_dir)
    check = summary["checks"][0]
    assert (check["outcome"], check["severity"], check["category"]) == (
        "failed",
        "blocker",
        "infrastructure unreachable",
    )
    assert summary["reasons"] == ["SG-2: GET http://127.0.0.1:9/readiness: unreachable"]


def test_failing_minor_check_warns_but_stays_go(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import allure, pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
        @pytest.mark.check("SG-10")
        @allure.severity(allure.severity_level.MINOR)
        def test_dashboards(): assert False, "dashboard MongoDB has no panels"
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*WARN*SG-10*dashboard MongoDB has no panels*", "*VERDICT: GO*"])
    summary = run_summary(gate_dir)
    assert summary["verdict"] == "GO"
    assert summary["counts"]["warned"] == 1 and summary["counts"]["failed"] == 0


def test_skipped_required_check_is_no_go(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-9")
        def test_otlp(): pytest.skip("not configured: otlp.endpoint")
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 1
    assert run_summary(gate_dir)["reasons"] == ["SG-9: required check did not run: not configured: otlp.endpoint"]


def test_waived_skip_is_go_and_lists_the_waiver(gate_dir: pytest.Pytester) -> None:
    gate_dir.makefile(".yaml", env="name: testenv\nwaivers:\n  - {id: SG-9, reason: no collector in QA}\n")
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-9")
        def test_otlp(): pytest.skip("not configured: otlp.endpoint")
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*WAIVED SG-9*no collector in QA*"])
    assert run_summary(gate_dir)["waivers"] == [{"id": "SG-9", "reason": "no collector in QA", "until": None}]


def test_missing_setting_turns_into_a_not_configured_skip(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-10")
        def test_grafana(wg_env): wg_env.get("grafana.url")
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 1
    assert run_summary(gate_dir)["reasons"] == ["SG-10: required check did not run: not configured: grafana.url"]


def test_empty_selection_is_no_go(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile(PASSING)
    result = gate_dir.runpytest(*gate_args("-m", "golive"))
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*NO-GO*selection*no check selected by -m 'golive'*"])
    assert run_summary(gate_dir)["verdict"] == "NO-GO"


def test_same_verdict_with_two_workers(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
        @pytest.mark.check("SG-2")
        def test_ready(): assert False, "readiness answered 503"
        @pytest.mark.check("SG-9")
        def test_otlp(): pytest.skip("not configured: otlp")
    """)
    serial = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate", "-n", "0"))
    first = run_summary(gate_dir)
    parallel = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate", "-n", "2"))
    second = run_summary(gate_dir)
    assert serial.ret == parallel.ret == 1
    for key in ("verdict", "counts", "reasons"):
        assert first[key] == second[key]
    assert [(c["id"], c["outcome"]) for c in first["checks"]] == [(c["id"], c["outcome"]) for c in second["checks"]]


def test_non_gate_run_stays_plain_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 0
    assert "VERDICT" not in result.stdout.str()
    assert not (pytester.path / "releases").exists()


def test_unknown_check_id_is_a_usage_error(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-99")
        def test_x(): pass
    """)
    result = gate_dir.runpytest(*gate_args("-m", "staging_gate"))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unknown check id 'SG-99'*"])


def test_expired_waiver_no_longer_applies(gate_dir: pytest.Pytester) -> None:
    gate_dir.makefile(
        ".yaml", env="name: testenv\nwaivers:\n  - {id: SG-9, reason: collector ordered, until: '2026-11-30'}\n"
    )
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-9")
        def test_otlp(): pytest.skip("not configured: otlp.endpoint")
    """)
    assert gate_dir.runpytest(*gate_args("-m", "staging_gate", "--wg-now", "2026-11-30T12:00:00Z")).ret == 0
    assert run_summary(gate_dir)["waivers"] == [
        {"id": "SG-9", "reason": "collector ordered (until 2026-11-30)", "until": "2026-11-30"}
    ]
    assert gate_dir.runpytest(*gate_args("-m", "staging_gate", "--wg-now", "2026-12-01T00:00:00Z")).ret == 1
    assert run_summary(gate_dir)["reasons"] == ["SG-9: required check did not run: not configured: otlp.endpoint"]


def test_interrupted_run_is_exit_2_with_a_no_go_summary(gate_dir: pytest.Pytester) -> None:
    gate_dir.makepyfile("""
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
        @pytest.mark.check("SG-2")
        def test_ready(): raise KeyboardInterrupt
    """)
    result = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate"))
    assert result.ret == 2
    summary = run_summary(gate_dir)
    assert summary["verdict"] == "NO-GO"
    assert "interrupted: run interrupted before all checks ran" in summary["reasons"]
