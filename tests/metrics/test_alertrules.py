"""AL-1 rule files and expectations; AL-2 routing walked as Alertmanager walks it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.domain import alerting
from pytest_wimmelgate.errors import ConfigError

STAGING_RULES = """
groups:
  - name: wimmelwelt-staging
    rules:
      - alert: ReadinessFailureRate
        expr: |
          sum(rate(readiness_checks_total{result="fail"}[5m]))
            / sum(rate(readiness_checks_total[5m])) > 0.005
        for: 5m
        labels: {severity: P2}
        annotations: {summary: "Readiness failures above 0.5 %"}
      - alert: HighErrorRate
        expr: 100 * sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 2
        labels: {severity: P1}
      - alert: MongoLatencyP95
        expr: histogram_quantile(0.95, sum by (le) (rate(mongodb_command_duration_seconds_bucket[5m]))) > 0.5
        labels: {severity: P2}
      - alert: PushFailureRate
        expr: >
          100 * sum(rate(push_deliveries_total{result="failed"}[10m]))
          / sum(rate(push_deliveries_total[10m])) > 5
        labels: {severity: P2}
      - alert: LoggingSilence
        expr: sum(increase(log_lines_total{level="info"}[30m])) == 0
        labels: {severity: P3}
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
"""

STAGING_EXPECTED = {
    "ReadinessFailureRate": {"threshold": 0.5, "unit": "%", "window": "5m"},
    "HighErrorRate": {"threshold": 2, "unit": "%", "window": "5m"},
    "MongoLatencyP95": {"threshold": 500, "unit": "ms"},
    "PushFailureRate": {"threshold": 5, "unit": "%", "window": "10m"},
    "LoggingSilence": {"window": "30m"},
}


def write(tmp_path: Path, text: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str) -> list[Any]:
    return alerting.flatten(alerting.load_rule_file(write(tmp_path, text)))


# ---------------------------------------------------------------------------- AL-1


def test_good_rule_file_meets_the_staging_minimal_set(tmp_path: Path) -> None:
    rules = load(tmp_path, STAGING_RULES)

    assert [r.kind for r in rules].count("alerting") == 5
    assert rules[0].for_s == 300 and rules[0].group == "wimmelwelt-staging"
    expected = alerting.expected_rules(STAGING_EXPECTED)
    assert alerting.check_rules(rules, expected) == []


def test_missing_alert_is_a_problem(tmp_path: Path) -> None:
    text = STAGING_RULES.replace("alert: PushFailureRate", "alert: PushFailures")
    problems = alerting.check_rules(load(tmp_path, text), alerting.expected_rules(STAGING_EXPECTED))

    assert len(problems) == 1
    assert problems[0].subject == "alert PushFailureRate"
    assert problems[0].message.startswith("missing: no alerting rule of that name")
    assert "PushFailures" in problems[0].message


def test_production_thresholds_against_staging_rules_are_problems(tmp_path: Path) -> None:
    production = {
        "ReadinessFailureRate": {"threshold": 0.1, "unit": "%", "window": "5m"},
        "HighErrorRate": {"threshold": 1, "unit": "%", "window": "5m"},
        "LoggingSilence": {"window": "10m"},
        "PushFailureRate": {"threshold": 5, "unit": "%", "labels": {"severity": "P1"}},
    }
    problems = [
        str(p) for p in alerting.check_rules(load(tmp_path, STAGING_RULES), alerting.expected_rules(production))
    ]

    assert len(problems) == 4
    assert problems[0].startswith("alert ReadinessFailureRate: threshold 0.1 % not found")
    assert "numbers there: 0.005" in problems[0]
    assert problems[1].startswith("alert HighErrorRate: threshold 1 % not found")
    assert problems[2].startswith("alert LoggingSilence: window 10m neither")
    assert problems[3].startswith("alert PushFailureRate: label severity='P1' expected")


def test_threshold_without_unit_is_compared_exactly(tmp_path: Path) -> None:
    expected = alerting.expected_rules({"ReadinessFailureRate": {"threshold": 0.5}})
    problems = alerting.check_rules(load(tmp_path, STAGING_RULES), expected)
    assert len(problems) == 1
    assert "set unit '%' or 'ms'" in problems[0].message


def test_numbers_ignore_ranges_strings_and_identifiers() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(x_bucket{code="500"}[5m] offset 1h)))'
        " > 0.4 and on() http_5xx_total > 1e3"
    )
    assert alerting.numbers_in(expr) == [0.95, 0.4, 1000.0]
    assert alerting.windows_in(expr) == [300.0]
    assert alerting.windows_in("max_over_time(rate(x[1m])[10m:30s])") == [60.0, 600.0]


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "groups:\n  - name: g\n    rules: [\n      - alert: X\n")
    with pytest.raises(ConfigError) as info:
        alerting.load_rule_file(path)
    assert info.value.source == str(path)
    assert info.value.key_path.startswith("line ")
    assert "valid YAML" in info.value.expected


@pytest.mark.parametrize(
    ("text", "key_path", "expected"),
    [
        ("- just a list", "", "a mapping with a 'groups' list"),
        ("groups: {name: g}", "groups", "a list of rule groups"),
        ("groups:\n- rules: []", "groups[0].name", "a non-empty group name"),
        (
            "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []",
            "groups[1].name",
            "a unique group name; 'g' is already groups[0]",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    record: a\n    expr: up",
            "groups[0].rules[0]",
            "exactly one of 'alert' or 'record'",
        ),
        ("groups:\n- name: g\n  rules:\n  - expr: up", "groups[0].rules[0]", "exactly one"),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: ''",
            "groups[0].rules[0].expr",
            "a non-empty PromQL string (alert A)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n  - alert: B\n"
            "    expr: up == 0\n    for: 5 minutes",
            "groups[0].rules[1].for",
            "a Prometheus duration such as 30s, 5m, 1h (alert B)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {severity: 1}",
            "groups[0].rules[0].labels.severity",
            "a string (quote it) (alert A)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations: [x]",
            "groups[0].rules[0].annotations",
            "a mapping of strings (alert A)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: P1",
            "groups[0].rules[0].severity",
            "unknown key 'severity' (expected one of: alert, annotations, expr, for, keep_firing_for, labels, record)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: up\n    for: 5m",
            "groups[0].rules[0].for",
            "absent: not allowed in a recording rule (record a:b)",
        ),
        (
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    expr: down",
            "line 6, column 5",
            "found duplicate key 'expr'",
        ),
    ],
)
def test_structure_errors_name_the_key_path(tmp_path: Path, text: str, key_path: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        alerting.load_rule_file(path, promtool=False)
    assert info.value.key_path == key_path
    assert expected in info.value.expected
    assert str(info.value).startswith(str(path))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_catches_bad_promql_and_its_message_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(x[5m])\n")
    assert alerting.load_rule_file(path, promtool=False)[0].rules[0].name == "A"
    with pytest.raises(ConfigError) as info:
        alerting.load_rule_file(path)
    assert "promtool check rules" in info.value.expected
    assert "could not parse expression" in info.value.expected
    assert 'rule 1, "A"' in info.value.expected


def test_empty_rule_file_has_no_rules_so_everything_is_missing(tmp_path: Path) -> None:
    rules = load(tmp_path, "")
    problems = alerting.check_rules(rules, alerting.expected_rules(STAGING_EXPECTED))
    assert len(problems) == 5
    assert all("missing" in p.message for p in problems)


@pytest.mark.parametrize(
    ("mapping", "key_path"),
    [
        ({}, "alerting.rules"),
        ({"A": {"threshold": "2%"}}, "alerting.rules.A.threshold"),
        ({"A": {"threshold": True}}, "alerting.rules.A.threshold"),
        ({"A": {"window": "five minutes"}}, "alerting.rules.A.window"),
        ({"A": {"unit": "percent!"}}, "alerting.rules.A.unit"),
        ({"A": {"treshold": 2}}, "alerting.rules.A.treshold"),
        ({"A": [2]}, "alerting.rules.A"),
    ],
)
def test_bad_expectations_are_config_errors(mapping: dict[str, Any], key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        alerting.expected_rules(mapping, source="environments/staging.yaml")
    assert info.value.key_path == key_path
    assert info.value.source == "environments/staging.yaml"


# ---------------------------------------------------------------------------- AL-2

EMAIL = {"email_configs": [{"to": "team@wimmelwelt.invalid"}]}


def slack(channel: str) -> dict[str, Any]:
    return {"slack_configs": [{"channel": channel}]}


PAGERDUTY = {"pagerduty_configs": [{"routing_key": "<secret>"}]}

STAGING_CONFIG: dict[str, Any] = {
    "route": {"receiver": "team"},
    "receivers": [{"name": "team", **EMAIL, **slack("#wimmelwelt-staging")}],
}

PRODUCTION_CONFIG: dict[str, Any] = {
    "route": {
        "receiver": "team",
        "routes": [
            {"matchers": ['severity=~"P1|P2"'], "receiver": "oncall"},
            {"match": {"severity": "P3"}, "receiver": "team"},
        ],
    },
    "receivers": [
        {"name": "team", **EMAIL, **slack("#wimmelwelt-prod")},
        {"name": "oncall", **PAGERDUTY, **slack("#wimmelwelt-prod")},
    ],
}

STAGING_EXPECTED_ROUTING = {
    "forbid_anywhere": ["pagerduty"],
    "routes": [
        {
            "labels": {"alertname": "X", "severity": sev},
            "require": ["email", "slack"],
            "slack_channel": "#wimmelwelt-staging",
        }
        for sev in ("P1", "P2", "P3")
    ],
}

PRODUCTION_EXPECTED_ROUTING = {
    "routes": [
        *(
            {
                "name": f"{sev} pages on-call",
                "labels": {"alertname": "X", "severity": sev},
                "require": ["pagerduty", "slack"],
                "slack_channel": "#wimmelwelt-prod",
            }
            for sev in ("P1", "P2")
        ),
        {
            "name": "P3 mails or chats",
            "labels": {"alertname": "X", "severity": "P3"},
            "require_any": ["email", "slack"],
            "forbid": ["pagerduty"],
        },
    ]
}


def test_staging_routing_good() -> None:
    assert alerting.check_routing(STAGING_CONFIG, STAGING_EXPECTED_ROUTING) == []


def test_staging_with_pagerduty_is_a_problem() -> None:
    config = {
        "route": {
            "receiver": "team",
            "routes": [{"matchers": ['severity="P1"'], "receiver": "pager", "continue": True}],
        },
        "receivers": [
            STAGING_CONFIG["receivers"][0],
            {"name": "pager", **PAGERDUTY},
        ],
    }
    problems = [str(p) for p in alerting.check_routing(config, STAGING_EXPECTED_ROUTING)]

    assert problems[0] == "receiver 'pager': has pagerduty_configs, forbidden in this environment"
    assert any('severity="P1"' in p and "without email_configs" in p for p in problems)


def test_production_routing_good() -> None:
    assert alerting.check_routing(PRODUCTION_CONFIG, PRODUCTION_EXPECTED_ROUTING) == []


def test_production_without_pagerduty_is_a_problem() -> None:
    config = {
        **PRODUCTION_CONFIG,
        "receivers": [
            PRODUCTION_CONFIG["receivers"][0],
            {"name": "oncall", **slack("#wimmelwelt-prod")},
        ],
    }
    problems = [str(p) for p in alerting.check_routing(config, PRODUCTION_EXPECTED_ROUTING)]

    assert problems == [
        "P1 pages on-call: reaches 'oncall' via route.routes[0] without pagerduty_configs",
        "P2 pages on-call: reaches 'oncall' via route.routes[0] without pagerduty_configs",
    ]


def test_first_matching_child_wins_unless_continue() -> None:
    """A P1 caught by a catch-all child first never reaches the pager route below it."""
    shadowed = {
        **PRODUCTION_CONFIG,
        "route": {
            "receiver": "team",
            "routes": [
                {"match_re": {"alertname": ".+"}, "receiver": "team"},
                {"matchers": ['severity=~"P1|P2"'], "receiver": "oncall"},
            ],
        },
    }
    problems = alerting.check_routing(shadowed, PRODUCTION_EXPECTED_ROUTING)
    assert [p.subject for p in problems] == ["P1 pages on-call", "P2 pages on-call"]
    assert "via route.routes[0] without pagerduty_configs" in problems[0].message

    shadowed["route"]["routes"][0]["continue"] = True
    assert alerting.check_routing(shadowed, PRODUCTION_EXPECTED_ROUTING) == []


def test_receiver_is_inherited_and_unknown_receivers_are_reported() -> None:
    config: dict[str, Any] = {
        "route": {
            "receiver": "oncall",
            "routes": [{"matchers": ['{team="backend", severity!=P3}']}],
        },
        "receivers": [{"name": "team", **EMAIL}],
    }
    matches = alerting.match_routes(config["route"], {"team": "backend", "severity": "P1"})
    assert matches == [alerting.RouteMatch("route.routes[0]", "oncall")]
    problems = alerting.check_routing(config, {"routes": [{"labels": {"team": "backend", "severity": "P1"}}]})
    assert [p.message for p in problems] == ["routes to undefined receiver 'oncall' via route.routes[0]"]


def test_matcher_syntax() -> None:
    parsed = alerting.parse_matchers('{severity=~"P1|P2", team!="a\\"b", env=prod}')
    assert [(m.name, m.op, m.value) for m in parsed] == [
        ("severity", "=~", "P1|P2"),
        ("team", "!=", 'a"b'),
        ("env", "=", "prod"),
    ]
    assert parsed[0].matches({"severity": "P2"})
    assert not parsed[0].matches({"severity": "P22"})  # regexes are anchored
    assert alerting.Matcher("x", "=", "").matches({})  # absent label is ""
    with pytest.raises(ValueError):
        alerting.parse_matchers("severity")


@pytest.mark.parametrize(
    ("mapping", "key_path"),
    [
        ({"routes": [{"labels": {}}]}, "alerting.routing.routes[0].labels"),
        (
            {"routes": [{"labels": {"a": "b"}, "require": ["pager_duty"]}]},
            "alerting.routing.routes[0].require[0]",
        ),
        ({"routes": "all"}, "alerting.routing.routes"),
        ({"rutes": []}, "alerting.routing.rutes"),
        ({}, "alerting.routing"),
    ],
)
def test_bad_routing_expectations_are_config_errors(mapping: dict[str, Any], key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        alerting.expected_routing(mapping)
    assert info.value.key_path == key_path


def test_unknown_expectation_keys_are_worded_like_the_schema_check() -> None:
    with pytest.raises(ConfigError) as info:
        alerting.expected_rules({"A": {"treshold": 2}}, source="env.yaml")
    assert info.value.expected == "unknown key 'treshold' (expected one of: labels, threshold, unit, window)"
    with pytest.raises(ConfigError) as info:
        alerting.expected_routing({"rutes": []}, source="env.yaml")
    assert info.value.expected == "unknown key 'rutes' (expected one of: forbid_anywhere, routes)"
    with pytest.raises(ConfigError) as info:
        alerting.expected_routing({"routes": [{"labels": {"a": "b"}, "channel": "#x"}]}, source="env.yaml")
    assert info.value.expected.startswith("unknown key 'channel' (expected one of: forbid, labels, name, require")


def test_a_threshold_written_as_text_is_a_number(tmp_path: Path) -> None:
    """``${VAR}`` placeholders resolve to texts: ``threshold: "0.5"`` is 0.5."""
    expected = alerting.expected_rules({"ReadinessFailureRate": {"threshold": "0.5", "unit": "%", "window": "5m"}})
    assert expected[0].threshold == 0.5
    assert alerting.check_rules(load(tmp_path, STAGING_RULES), expected) == []
