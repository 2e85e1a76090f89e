"""env_check, change_window, golive and preflight: each case is a real gate run of the suites.

Every test runs ``pytest -m <gate>`` on the project's suites in a subprocess (`run_gate`)
and asserts the exit status, the checks and reasons of ``gate-summary.json`` and the
verdict table on the terminal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.report import find_allure_cli
from tests.gates.conftest import ROOT, check, newest_summary, run_gate
from tests.gates.release_helpers import (
    PRODUCTION,
    PRODUCTION_SECRETS,
    PRODUCTION_YAML,
    SANDBOX_YAML,
    STAGING_FOR_COMPARISON,
    Alertmanager,
    allure_attachment,
    allure_result_of,
    assert_one_error_line,
    checks_by_outcome,
    clear_run_settings,
    leaks,
    p1_alert,
    placeholder_variables,
    run_dirs,
    start_alertmanager,
    write_dotenv,
    write_env_file,
)

EV_IDS = {"EV-1", "EV-2", "EV-3", "EV-4", "EV-5", "EV-6"}


@pytest.fixture(autouse=True)
def _no_outer_run_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs get their settings from the command line only."""
    clear_run_settings(monkeypatch)


def _out(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


# ============================================================================ env_check


@pytest.fixture
def staging_values(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Staging's values where production.yaml's ``variables.foreign.from_env`` reads them (CI)."""
    for name, value in STAGING_FOR_COMPARISON.items():
        monkeypatch.setenv(name, value)
    return dict(STAGING_FOR_COMPARISON)


def _env_check(pytester: pytest.Pytester, variables: dict[str, str], *args: str) -> pytest.RunResult:
    dotenv = write_dotenv(pytester.path / "production.env", variables)
    return run_gate(pytester, "-m", "env_check", "--wg-env", "production", "--wg-env-file", str(dotenv), *args)


def test_env_check_is_go_for_a_complete_production_set(
    pytester: pytest.Pytester, staging_values: dict[str, str]
) -> None:
    result = _env_check(pytester, PRODUCTION)
    assert result.ret == 0, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["gates"] == ["env_check"]
    assert summary["environment"] == "production" and summary["reasons"] == []
    assert checks_by_outcome(summary) == {"passed": EV_IDS}
    assert check(summary, "EV-4")["reason"] is None
    result.stdout.fnmatch_lines(["environment  production (*production.yaml, --wg-env)", "VERDICT: GO"])


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != name}


ENV_FAULTS = [
    pytest.param(_without("LOG_ENDPOINT"), "LOG_ENDPOINT", {"EV-1"}, id="LOG_ENDPOINT-missing"),
    pytest.param({**PRODUCTION, "AWS_REGION": "eu-west-1"}, "AWS_REGION", {"EV-2"}, id="AWS_REGION-wrong"),
    pytest.param(
        {**PRODUCTION, "MONGODB_URI": PRODUCTION["MONGODB_URI"].replace("/wimmelwelt_prod?", "/wimmelwelt_staging?")},
        "MONGODB_URI",
        {"EV-3"},
        id="MONGODB_URI-staging-database",
    ),
    pytest.param(
        _without("OTEL_EXPORTER_OTLP_HEADERS"),
        "OTEL_EXPORTER_OTLP_HEADERS",
        {"EV-1"},
        id="OTEL_EXPORTER_OTLP_HEADERS-missing",
    ),
]


@pytest.mark.parametrize(("variables", "culprit", "must_fail"), ENV_FAULTS)
def test_env_check_is_no_go_naming_exactly_the_bad_variable(
    pytester: pytest.Pytester,
    staging_values: dict[str, str],
    variables: dict[str, str],
    culprit: str,
    must_fail: set[str],
) -> None:
    result = _env_check(pytester, variables)
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "NO-GO"
    failed = [c for c in summary["checks"] if c["outcome"] == "failed"]
    assert must_fail <= {c["id"] for c in failed}
    others = set(PRODUCTION) - {culprit}
    for item in failed:
        assert culprit in item["reason"], item
        named = {name for name in others if name in item["reason"].replace(culprit, "")}
        assert not named, f"{item['id']} names {named} besides {culprit}: {item['reason']}"
        assert item["category"] == "configuration missing"
        assert any(r.startswith(f"{item['id']}: ") and culprit in r for r in summary["reasons"])
        result.stdout.fnmatch_lines([f"NO-GO  {item['id']}*{culprit}*"])
    assert {c["id"] for c in summary["checks"] if c["outcome"] == "passed"} == EV_IDS - {c["id"] for c in failed}
    result.stdout.fnmatch_lines(["VERDICT: NO-GO"])


def test_env_check_never_shows_a_secret_of_the_dotenv(
    pytester: pytest.Pytester, staging_values: dict[str, str]
) -> None:
    bad = {
        **PRODUCTION,
        "AWS_REGION": "us-east-1",
        "MONGODB_URI": PRODUCTION["MONGODB_URI"].replace("/wimmelwelt_prod?", "/wimmelwelt_staging?"),
        "LOG_ENDPOINT": "http://logs.wimmel.example/ingest",
    }
    result = _env_check(pytester, bad, "-rA", "-l", "--wg-report", "auto")
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert {"EV-2", "EV-3"} <= {c["id"] for c in summary["checks"] if c["outcome"] == "failed"}
    (run_dir,) = run_dirs(pytester.path / "rel")
    assert (run_dir / "junit.xml").is_file() and any((run_dir / "allure-results").iterdir())
    if find_allure_cli(root=ROOT):
        assert (run_dir / "report" / "index.html").is_file(), "the report is part of what is searched"
    secrets = [
        *PRODUCTION_SECRETS.values(),
        STAGING_FOR_COMPARISON["STAGING_AUTH_SECRET_FOR_COMPARISON"],
        "Stg-Db-Pw-Qx81Lk02Zr",
        "stg-otel-TOKEN-7Hq2Wm9Kx4",
    ]
    texts = {"stdout": "\n".join(result.outlines).encode(), "stderr": "\n".join(result.errlines).encode()}
    assert leaks(secrets, texts, pytester.path / "rel") == []


# -- bad input: exit 4, one line naming the key path, no run folder


def _assert_usage_error(pytester: pytest.Pytester, result: pytest.RunResult, *needles: str) -> None:
    __tracebackhide__ = True
    assert result.ret == 4, _out(result)[-3000:]
    assert_one_error_line(_out(result), *needles)
    assert not (pytester.path / "rel").exists(), "a run folder was created for a usage error"


def test_malformed_dotenv_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    dotenv = pytester.path / "production.env"
    secret_line = f"AUTH_SECRET {PRODUCTION['AUTH_SECRET']}"
    dotenv.write_text("LOG_LEVEL=info\n# a comment\n" + secret_line + "\nAWS_REGION=eu-central-1\n")
    result = run_gate(pytester, "-m", "env_check", "--wg-env", "production", "--wg-env-file", str(dotenv))
    _assert_usage_error(pytester, result, str(dotenv), "line 3")
    assert PRODUCTION["AUTH_SECRET"] not in _out(result)


def test_unknown_rule_name_is_a_usage_error(pytester: pytest.Pytester) -> None:
    env = write_env_file(
        pytester.path / "prod-rules.yaml",
        PRODUCTION_YAML,
        """
variables:
  rules:
    AWS_REGION: {equal: eu-central-1}
""",
    )
    dotenv = write_dotenv(pytester.path / "production.env", PRODUCTION)
    result = run_gate(pytester, "-m", "env_check", "--wg-env", str(env), "--wg-env-file", str(dotenv))
    _assert_usage_error(pytester, result, "prod-rules.yaml", "variables.rules.AWS_REGION.equal")


BAD_CALENDARS = [
    pytest.param(
        'windows:\n    - {days: [tue, thu], start: "22:00", end: "20:00"}',
        "calendar.windows[0].end",
        id="end-before-start",
    ),
    pytest.param(
        'freeze:\n    - {days: [mon, tue, wednesday, thursdy], start: "08:00", end: "18:00"}',
        "calendar.freeze[0].days[3]",
        id="unknown-weekday",
    ),
    pytest.param("timezone: Europe/Bielefeld", "calendar.timezone", id="unknown-time-zone"),
]


@pytest.mark.parametrize(("calendar", "key_path"), BAD_CALENDARS)
def test_impossible_calendar_is_a_usage_error(pytester: pytest.Pytester, calendar: str, key_path: str) -> None:
    env = write_env_file(pytester.path / "prod-calendar.yaml", PRODUCTION_YAML, "calendar:\n  " + calendar)
    result = run_gate(pytester, "-m", "change_window", "--wg-env", str(env))
    _assert_usage_error(pytester, result, "prod-calendar.yaml", key_path)


# ============================================================================ change_window

WINTER_TUE_2000 = "2026-11-24T19:00:00Z"  # Tue 20:00 CET (UTC+1)
WINTER_TUE_2200 = "2026-11-24T21:00:00Z"  # Tue 22:00 CET: end is outside
WINTER_WED_1000 = "2026-11-25T09:00:00Z"  # Wed 10:00 CET: inside the freeze
SUMMER_TUE_2000 = "2026-07-14T18:00:00Z"  # Tue 20:00 CEST (UTC+2); 19:00 in CET would be outside
SUMMER_TUE_2200 = "2026-07-14T20:00:00Z"  # Tue 22:00 CEST; 21:00 in CET would be inside
SUMMER_WED_1000 = "2026-07-15T08:00:00Z"  # Wed 10:00 CEST

CALENDAR_CASES = [
    pytest.param(WINTER_TUE_2000, (), "passed", "passed", id="winter-tue-20:00-inside"),
    pytest.param(SUMMER_TUE_2000, (), "passed", "passed", id="summer-tue-20:00-inside"),
    pytest.param(WINTER_TUE_2200, (), "failed", "passed", id="winter-tue-22:00-outside"),
    pytest.param(SUMMER_TUE_2200, (), "failed", "passed", id="summer-tue-22:00-outside"),
    pytest.param(
        SUMMER_TUE_2200, ("product-owner:Petra Olsen",), "failed", "passed", id="summer-tue-22:00-product-owner-alone"
    ),
    pytest.param(WINTER_WED_1000, (), "failed", "failed", id="winter-wed-10:00-freeze"),
    pytest.param(
        SUMMER_WED_1000,
        ("incident:INC-4711", "on-call:Otto Call"),
        "failed",
        "passed",
        id="summer-wed-10:00-incident-release",
    ),
    pytest.param(SUMMER_WED_1000, ("incident:INC-4711",), "failed", "failed", id="summer-wed-10:00-incident-alone"),
]


@pytest.mark.parametrize(("now", "approvals", "cw1", "cw2"), CALENDAR_CASES)
def test_change_window_in_berlin_time(
    pytester: pytest.Pytester, now: str, approvals: tuple[str, ...], cw1: str, cw2: str
) -> None:
    args = [a for approval in approvals for a in ("--wg-approval", approval)]
    result = run_gate(pytester, "-m", "change_window", "--wg-env", "production", "--wg-now", now, *args)
    go = cw1 == cw2 == "passed"
    assert result.ret == (0 if go else 1), _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == ("GO" if go else "NO-GO")
    assert check(summary, "CW-1")["outcome"] == cw1, check(summary, "CW-1")
    assert check(summary, "CW-2")["outcome"] == cw2, check(summary, "CW-2")
    assert summary["approvals"] == list(approvals)
    if cw1 == "failed":
        reason = check(summary, "CW-1")["reason"]
        assert "outside release windows tue/thu 20:00-22:00 Europe/Berlin" in reason
        assert "product-owner" in reason and "on-call" in reason
        result.stdout.fnmatch_lines(["NO-GO  CW-1*outside release windows*"])
    if cw2 == "failed":
        reason = check(summary, "CW-2")["reason"]
        assert "inside change freeze mon-sun 08:00-18:00 Europe/Berlin" in reason and "Wed" in reason
        assert "incident:REF" in reason
        result.stdout.fnmatch_lines(["NO-GO  CW-2*inside change freeze*"])
    run_dir = run_dirs(pytester.path / "rel")[-1]
    window = allure_attachment(run_dir, allure_result_of(run_dir, "test_inside_a_release_window"), "release window")
    assert window["now_utc"] == now and window["timezone"] == "Europe/Berlin"
    assert window["now_local"].endswith(" CEST" if now.startswith("2026-07") else " CET"), window
    result.stdout.fnmatch_lines([f"VERDICT: {'GO' if go else 'NO-GO'}"])


def test_change_window_override_records_the_approvals(pytester: pytest.Pytester) -> None:
    result = run_gate(
        pytester,
        "-m",
        "change_window",
        "--wg-env",
        "production",
        "--wg-now",
        WINTER_TUE_2200,
        "--wg-approval",
        "product-owner:Petra Olsen",
        "--wg-approval",
        "on-call:Otto Call",
    )
    assert result.ret == 0, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["approvals"] == ["product-owner:Petra Olsen", "on-call:Otto Call"]
    assert check(summary, "CW-1")["outcome"] == "passed" and check(summary, "CW-2")["outcome"] == "passed"
    run_dir = run_dirs(pytester.path / "rel")[-1]
    window = allure_attachment(run_dir, allure_result_of(run_dir, "test_inside_a_release_window"), "release window")
    assert window["approvals_used"] == ["product-owner:Petra Olsen", "on-call:Otto Call"]
    assert "override approved by product-owner:Petra Olsen and on-call:Otto Call" in window["reason"]
    result.stdout.fnmatch_lines(["VERDICT: GO"])


def test_change_window_needs_no_production_credentials(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's promise: `pytest -m change_window --wg-env production` without any PROD_* variable."""
    for name in list(os.environ):
        if name.startswith("PROD_") or name in placeholder_variables(PRODUCTION_YAML):
            monkeypatch.delenv(name)
    result = run_gate(pytester, "-m", "change_window", "--wg-env", "production")
    assert result.ret in (0, 1), _out(result)[-3000:]
    assert "ERROR:" not in _out(result)
    summary = newest_summary(pytester)
    assert summary["verdict"] == ("GO" if result.ret == 0 else "NO-GO")
    assert {c["id"] for c in summary["checks"]} == {"CW-1", "CW-2"}
    assert all(c["outcome"] in ("passed", "failed") for c in summary["checks"])


# ============================================================================ golive (sandbox)

VERSION, COMMIT = "1.4.2", "3f9c2e1a7b"
GOLIVE_APPROVALS = ("--wg-approval", "product-owner:Petra Olsen", "--wg-approval", "release-captain:Rita Kapitän")


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """A real Alertmanager without alerts."""
    manager = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    try:
        yield manager
    finally:
        manager.stop()


def _golive_env(pytester: pytest.Pytester, alertmanager_url: str) -> Path:
    return write_env_file(
        pytester.path / "golive.yaml",
        SANDBOX_YAML,
        f"""
alertmanager:
  url: {alertmanager_url}
  timeout_s: 3
""",
    )


def write_staging_summary(
    release_dir: Path, version: str, commit: str, verdict: str = "GO", stamp: str = "20261127T190000Z"
) -> Path:
    run = release_dir / version / "staging" / f"staging_gate-{stamp}"
    run.mkdir(parents=True)
    summary: dict[str, Any] = {
        "schema": "wimmelgate/gate-summary/v1",
        "gates": ["staging_gate"],
        "environment": "staging",
        "version": version,
        "commit": commit,
        "tester": "release-bot",
        "verdict": verdict,
        "complete": True,
        "started_at": "2026-11-27T19:00:00Z",
        "finished_at": "2026-11-27T19:00:30Z",
        "counts": {"passed": 7, "failed": 0, "skipped": 0, "warned": 0},
        "checks": [],
        "reasons": [],
    }
    path = run / "gate-summary.json"
    path.write_text(json.dumps(summary), encoding="utf-8")
    return path


def _golive(pytester: pytest.Pytester, manager: Alertmanager, *args: str) -> pytest.RunResult:
    env = _golive_env(pytester, manager.url)
    return run_gate(pytester, "-m", "golive", "--wg-env", str(env), "--wg-version", VERSION, *args)


def test_golive_is_go_on_the_sandbox(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], alertmanager: Alertmanager
) -> None:
    staging = write_staging_summary(pytester.path / "rel", VERSION, COMMIT)
    result = _golive(pytester, alertmanager, "--wg-commit", COMMIT, *GOLIVE_APPROVALS)
    assert result.ret == 0, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and summary["environment"] == "sandbox"
    assert checks_by_outcome(summary) == {"passed": {"GL-2", "GL-3", "GL-4", "GL-5", "GL-6"}, "skipped": {"GL-1"}}
    gl1 = check(summary, "GL-1")
    assert gl1["waiver"] and "PagerDuty" in gl1["waiver"]
    assert [w["id"] for w in summary["waivers"]] == ["GL-1"]
    assert summary["approvals"] == ["product-owner:Petra Olsen", "release-captain:Rita Kapitän"]
    run_dir = run_dirs(pytester.path / "rel" / VERSION / "sandbox")[-1]
    gl5 = allure_attachment(
        run_dir, allure_result_of(run_dir, "test_staging_gate_was_go_for_this_release"), "staging gate evidence"
    )
    assert gl5["ok"] is True and gl5["summary"] == str(staging)
    result.stdout.fnmatch_lines(["WAIVED GL-1*", "VERDICT: GO"])


def test_golive_is_no_go_when_the_newest_backup_is_older_than_24h(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], alertmanager: Alertmanager
) -> None:
    write_staging_summary(pytester.path / "rel", VERSION, COMMIT)
    later = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    result = _golive(pytester, alertmanager, "--wg-commit", COMMIT, "--wg-now", later, *GOLIVE_APPROVALS)
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "NO-GO"
    gl2 = check(summary, "GL-2")
    assert gl2["outcome"] == "failed" and gl2["category"] == "product defect", gl2
    assert "24" in gl2["reason"] and "days" in gl2["reason"], gl2
    assert checks_by_outcome(summary)["passed"] == {"GL-3", "GL-4", "GL-5", "GL-6"}
    assert [r.split(":")[0] for r in summary["reasons"]] == ["GL-2"]
    result.stdout.fnmatch_lines(["NO-GO  GL-2*", "VERDICT: NO-GO"])


def test_golive_is_no_go_naming_an_active_p1_alert(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    manager = start_alertmanager(tmp_path / "alertmanager")
    try:
        manager.post(p1_alert("WimmelweltApiDown", "P1"), p1_alert("DiskAlmostFull", "P3"))
        assert {a["labels"]["alertname"] for a in manager.active()} == {"WimmelweltApiDown", "DiskAlmostFull"}
        write_staging_summary(pytester.path / "rel", VERSION, COMMIT)
        result = _golive(pytester, manager, "--wg-commit", COMMIT, *GOLIVE_APPROVALS)
    finally:
        manager.stop()
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    gl4 = check(summary, "GL-4")
    assert gl4["outcome"] == "failed", gl4
    assert "WimmelweltApiDown (P1)" in gl4["reason"] and "DiskAlmostFull" not in gl4["reason"], gl4
    assert [r.split(":")[0] for r in summary["reasons"]] == ["GL-4"]
    result.stdout.fnmatch_lines(["NO-GO  GL-4*WimmelweltApiDown*", "VERDICT: NO-GO"])


def test_golive_is_no_go_without_go_approvals(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], alertmanager: Alertmanager
) -> None:
    write_staging_summary(pytester.path / "rel", VERSION, COMMIT)
    result = _golive(pytester, alertmanager, "--wg-commit", COMMIT, "--wg-approval", "product-owner:Petra Olsen")
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    gl6 = check(summary, "GL-6")
    assert gl6["outcome"] == "failed" and "release-captain" in gl6["reason"], gl6
    assert [r.split(":")[0] for r in summary["reasons"]] == ["GL-6"]
    result.stdout.fnmatch_lines(["NO-GO  GL-6*release-captain*", "VERDICT: NO-GO"])


def test_golive_is_no_go_when_staging_was_go_for_another_commit(
    pytester: pytest.Pytester, sandbox_env: dict[str, str], alertmanager: Alertmanager
) -> None:
    staging = write_staging_summary(pytester.path / "rel", VERSION, "0badc0ffee")
    result = _golive(pytester, alertmanager, "--wg-commit", COMMIT, *GOLIVE_APPROVALS)
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    gl5 = check(summary, "GL-5")
    assert gl5["outcome"] == "failed", gl5
    assert str(staging) in gl5["reason"] and "0badc0ffee" in gl5["reason"] and COMMIT in gl5["reason"], gl5
    assert [r.split(":")[0] for r in summary["reasons"]] == ["GL-5"]
    result.stdout.fnmatch_lines(["NO-GO  GL-5*0badc0ffee*", "VERDICT: NO-GO"])


# ============================================================================ preflight

CHANGELOG = """# Changelog

## [1.4.2] - 2026-11-20
### Fixed
- Push deliveries are retried once.

## [1.4.1] - 2026-11-06
- Uploads record their storage.
"""

GOOD_MIGRATION = """module.exports = {
  async up(db) { await db.collection('messages').createIndex({ sender: 1 }); },
  async down(db) { await db.collection('messages').dropIndex({ sender: 1 }); },
};
"""
ONE_WAY_MIGRATION = """module.exports = {
  async up(db) { await db.collection('uploads').updateMany({}, { $unset: { legacy: '' } }); },
};
"""


def _preflight(pytester: pytest.Pytester, version: str, *, one_way: bool = False) -> pytest.RunResult:
    (pytester.path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    folder = pytester.path / "migrations"
    folder.mkdir()
    (folder / "20261110100000-add-sender-index.js").write_text(GOOD_MIGRATION, encoding="utf-8")
    if one_way:
        (folder / "20261118120000-drop-legacy-field.js").write_text(ONE_WAY_MIGRATION, encoding="utf-8")
    env = write_env_file(
        pytester.path / "preflight.yaml",
        SANDBOX_YAML,
        f"""
changelog: {{path: {pytester.path / "CHANGELOG.md"}}}
migrations: {{folder: {folder}}}
variables: {{required: [RELEASE_NOTES_URL]}}
""",
    )
    dotenv = write_dotenv(pytester.path / "preflight.env", {"RELEASE_NOTES_URL": "https://wiki.example/1.4.2"})
    return run_gate(
        pytester,
        "-m",
        "preflight",
        "--wg-env",
        str(env),
        "--wg-env-file",
        str(dotenv),
        "--wg-version",
        version,
        "--wg-commit",
        COMMIT,
    )


def test_preflight_is_go_with_changelog_and_down_migrations(pytester: pytest.Pytester) -> None:
    result = _preflight(pytester, VERSION)
    assert result.ret == 0, _out(result)[-3000:]
    summary = newest_summary(pytester)
    assert summary["verdict"] == "GO" and (summary["version"], summary["commit"]) == (VERSION, COMMIT)
    assert checks_by_outcome(summary) == {"passed": {"PF-1", "PF-2", "PF-3", "EV-1"}, "skipped": {"PF-4"}}
    assert [w["id"] for w in summary["waivers"]] == ["PF-4"]
    pf1 = allure_result_of(run_dirs(pytester.path / "rel")[-1], "test_version_and_commit_are_known_and_recorded")
    parameters = {p["name"]: p["value"] for p in pf1["parameters"]}
    assert VERSION in parameters["version"] and "--wg-version" in parameters["version"]
    assert COMMIT in parameters["commit"] and "--wg-commit" in parameters["commit"]
    result.stdout.fnmatch_lines(["WAIVED PF-4*", "VERDICT: GO"])


def test_preflight_is_no_go_when_the_changelog_lacks_the_version(pytester: pytest.Pytester) -> None:
    result = _preflight(pytester, "1.4.3")
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    pf2 = check(summary, "PF-2")
    assert pf2["outcome"] == "failed" and "no entry for version 1.4.3" in pf2["reason"], pf2
    assert [r.split(":")[0] for r in summary["reasons"]] == ["PF-2"]
    result.stdout.fnmatch_lines(["NO-GO  PF-2*1.4.3*", "VERDICT: NO-GO"])


def test_preflight_is_no_go_naming_the_migration_without_down(pytester: pytest.Pytester) -> None:
    result = _preflight(pytester, VERSION, one_way=True)
    assert result.ret == 1, _out(result)[-3000:]
    summary = newest_summary(pytester)
    pf3 = check(summary, "PF-3")
    assert pf3["outcome"] == "failed" and "20261118120000-drop-legacy-field.js" in pf3["reason"], pf3
    assert "add-sender-index" not in pf3["reason"]
    assert [r.split(":")[0] for r in summary["reasons"]] == ["PF-3"]
    result.stdout.fnmatch_lines(["NO-GO  PF-3*drop-legacy-field.js*", "VERDICT: NO-GO"])
