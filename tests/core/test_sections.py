"""Every section's validator stops a real gate run at the door: exit 4, one line, file and key path.

For each entry of `PARSERS` (and the top-level keys) a value the JSON Schema lets through —
it comes from a ``${VAR}`` placeholder, or the section is loosely typed — but the section's
parser refuses: an unknown rule name or key, an empty URL from a variable, a negative bound
written as text, a bad JMESPath, an unknown time zone… Each ends ``pytest -m <a gate whose
checks read the section>`` over the real suites with exit 4 and exactly one ``ERROR:`` line
naming the file and the key path, before any check runs (no run folder, nothing collected).
Removing a validator makes its case run on instead, and fail here. A section added to
`PARSERS` without a case fails here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.config.sections import PARSERS, parser_of
from pytest_wimmelgate.core import selection
from pytest_wimmelgate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = "(top level)"
#: sections no gate check reads: their parser runs for a team's own checks (``wg_settings``) only
READ_BY_NO_CHECK = frozenset({"database"})
BACKEND = 'backend: {base_url: "http://127.0.0.1:9"}\n'


@dataclass(frozen=True)
class BadValue:
    """An environment file the schema accepts and the section's parser refuses."""

    gate: str
    yaml: str
    key_path: str
    variables: dict[str, str] = field(default_factory=dict)
    #: words of the one error line besides file and key path
    says: tuple[str, ...] = ()


CASES: dict[str, BadValue] = {
    TOP_LEVEL: BadValue(
        "preflight",
        'waivers:\n  - {id: PF-4, reason: "no Statuspage here", until: "${WG_T_UNTIL}"}\n',
        "waivers[0].until",
        {"WG_T_UNTIL": "soon"},
        ("a date", "WG_T_UNTIL"),
    ),
    "sandbox": BadValue(
        "preflight", 'sandbox: {start: "${WG_T_START}"}\n', "sandbox.start", {"WG_T_START": "sometimes"}, ("one of",)
    ),
    "backend": BadValue(
        "staging_gate",
        'backend:\n  base_url: "http://127.0.0.1:9"\n  readiness: {condition: "status =="}\n',
        "backend.readiness.condition",
        says=("JMESPath",),
    ),
    "smoke_account": BadValue(
        "staging_gate",
        BACKEND + 'smoke_account: {username: "${WG_T_USER}", password: "pw"}\n',
        "smoke_account.username",
        {"WG_T_USER": ""},
        ("non-empty", "WG_T_USER"),
    ),
    "faults": BadValue(
        "staging_gate",
        BACKEND + 'faults: {provider: sandbox, block_bound_s: "${WG_T_BOUND}"}\n',
        "faults.block_bound_s",
        {"WG_T_BOUND": "-3"},
        ("above 0", "WG_T_BOUND"),
    ),
    "logs": BadValue(
        "staging_gate",
        BACKEND + 'logs: {url: "${WG_T_LOGS_URL}"}\n',
        "logs.url",
        {"WG_T_LOGS_URL": ""},
        ("non-empty", "WG_T_LOGS_URL"),
    ),
    "otlp": BadValue(
        "staging_gate",
        'otlp: {endpoint: "${WG_T_OTLP}", headers: "authorization=Bearer%20x"}\n',
        "otlp.endpoint",
        {"WG_T_OTLP": "collector:4318"},
        ("absolute", "WG_T_OTLP"),
    ),
    "grafana": BadValue(
        "post_deploy",
        'grafana: {url: "https://grafana.example", token: "t", timeout_s: "${WG_T_TIMEOUT}"}\n',
        "grafana.timeout_s",
        {"WG_T_TIMEOUT": "0"},
        ("above 0",),
    ),
    "pagerduty": BadValue(
        "golive",
        'pagerduty: {token: "${WG_T_PD_TOKEN}", schedule_id: "P1ABCDE"}\n',
        "pagerduty.token",
        {"WG_T_PD_TOKEN": " "},
        ("non-empty",),
    ),
    "statuspage": BadValue(
        "preflight",
        'statuspage: {token: "t", page_id: "p", api_url: "${WG_T_STATUSPAGE}"}\n',
        "statuspage.api_url",
        {"WG_T_STATUSPAGE": "ftp://statuspage.example"},
        ("absolute",),
    ),
    "alertmanager": BadValue(
        "golive",
        'alertmanager: {url: "http://alertmanager.example", severities: [P1]}\n',
        "alertmanager.severities",
        says=("unknown key", "blocking_severities"),
    ),
    "changelog": BadValue("preflight", "changelog: {file: CHANGELOG.md}\n", "changelog.file", says=("unknown key",)),
    "artifacts": BadValue(
        "rollback_validation",
        BACKEND + "artifacts: {timeout_s: 5}\n",
        "artifacts.url_template",
        says=("url_template or s3",),
    ),
    "staging_evidence": BadValue(
        "golive",
        'staging_evidence: {environment: "${WG_T_STAGING}"}\n',
        "staging_evidence.environment",
        {"WG_T_STAGING": ""},
        ("non-empty",),
    ),
    "variables": BadValue(
        "env_check",
        "variables:\n  required: [LOG_LEVEL]\n  rules: {LOG_LEVEL: {equal: debug}}\n",
        "variables.rules.LOG_LEVEL.equal",
    ),
    "calendar": BadValue(
        "change_window", "calendar: {timezone: Mars/Olympus_Mons}\n", "calendar.timezone", says=("time zone",)
    ),
    "backups": BadValue(
        "golive",
        'backups: {s3: {bucket: "backups"}, max_age_hours: "${WG_T_HOURS}"}\n',
        "backups.max_age_hours",
        {"WG_T_HOURS": "-24"},
        ("positive",),
    ),
    "migrations": BadValue(
        "preflight",
        'migrations: {folder: "migrations", timeout_s: "${WG_T_MIGRATIONS}"}\n',
        "migrations.timeout_s",
        {"WG_T_MIGRATIONS": "-1"},
    ),
    "alerting": BadValue(
        "alerting",
        "alerting:\n  rule_files: [rules.yml]\n  rules: {HTTP5xxRate: {threshold: 2, unit: kg}}\n",
        "alerting.rules.HTTP5xxRate.unit",
    ),
    "metrics": BadValue(
        "post_deploy",
        'metrics:\n  objectives:\n    PD-1: {sli: latency_p96_ms, comparison: "<", limit: 300, window: 5m}\n',
        "metrics.objectives.PD-1.sli",
    ),
}


def test_every_section_parser_has_a_bad_value_case() -> None:
    assert sorted(set(PARSERS) - READ_BY_NO_CHECK - set(CASES)) == [], "a section without a case below"
    assert sorted(set(CASES) - set(PARSERS) - {TOP_LEVEL}) == [], "a case of a section that has no parser"


@pytest.mark.parametrize("section", sorted(READ_BY_NO_CHECK))
def test_a_section_no_check_reads_is_still_validated_when_read(section: str) -> None:
    """No gate parses it (only the sections the selected checks read are resolved); a team's
    own check reading it through ``wg_settings`` gets the parser's error."""
    assert not any(section in check.uses for check in catalogue.CHECKS), f"a check reads {section}: give it a case"
    with pytest.raises(ConfigError) as error:
        parser_of(section)({"uri": ""}, "env.yaml")
    assert str(error.value).startswith(f"env.yaml: {section}.uri: ")


@pytest.mark.parametrize("section", sorted({*PARSERS, TOP_LEVEL} - READ_BY_NO_CHECK))
def test_a_bad_value_the_schema_lets_through_ends_the_gate_run_with_exit_4(
    section: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES.get(section)
    if case is None:
        pytest.fail(f"section {section!r} has no bad-value case in CASES")
    if section not in (TOP_LEVEL, "sandbox"):  # those two are read by every gate run
        read = selection.sections_used(selection.selected_checks(case.gate))
        assert section in read, f"no check of {case.gate} reads {section}: choose a gate that does"
    for name, value in case.variables.items():
        monkeypatch.setenv(name, value)
    (pytester.path / "env.yaml").write_text(f"name: sections\n{case.yaml}", encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--wg-env",
        "env.yaml",
        "--wg-release-dir",
        str(pytester.path / "rel"),
        str(ROOT / "suites"),
        "-m",
        case.gate,
        timeout=120,
    )
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output[-3000:]
    [line] = errors
    assert f"env.yaml: {case.key_path}: " in line, line
    for word in case.says:
        assert word in line, line
    assert "Traceback" not in output and "collected" not in output, output[-3000:]
    assert not (pytester.path / "rel").exists(), "a run folder was written"
