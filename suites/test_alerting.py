"""Alerting (runbook 7): the minimal rule set with this environment's thresholds (AL-1)
and the routing (AL-2). Rules come from Prometheus ``/api/v1/rules`` or from rule files
(validated as promtool would); routing from Alertmanager ``/api/v2/status`` or a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.domain import alerting
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.probes import alertmanager, prometheus


def _problems(problems: list[alerting.Problem], what: str) -> None:
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise CheckFailed(Category.PRODUCT, f"{what}: {shown}{more}", {"problems": [str(p) for p in problems]})


@pytest.mark.check("AL-1")
def test_minimal_alert_rule_set(wg_env: Environment, pytestconfig: pytest.Config, evidence: Evidence) -> None:
    expected = alerting.expected_rules(wg_env.get("alerting.rules"), source=wg_env.source)
    files = wg_env.get("alerting.rule_files", None)
    if files:
        paths = [Path(str(f)) if Path(str(f)).is_absolute() else pytestconfig.rootpath / str(f) for f in files]
        groups = alerting.load_rule_files(paths)
        origin = ", ".join(str(p) for p in paths)
    else:
        url = str(wg_env.get("alerting.prometheus_url", None) or wg_env.get("metrics.prometheus_url"))
        groups = prometheus.rules(url, timeout=float(wg_env.get("metrics.timeout_s", 5)))
        origin = f"{url}/api/v1/rules"
    rules = alerting.flatten(groups)
    evidence.json(
        "alert rules",
        {"origin": origin, "rules": [{"alert": r.name, "expr": r.expr, "labels": dict(r.labels)} for r in rules]},
    )
    _problems(alerting.check_rules(rules, expected), f"alert rules from {origin}")


@pytest.mark.check("AL-2")
def test_alert_routing(wg_env: Environment, pytestconfig: pytest.Config, evidence: Evidence) -> None:
    expected = alerting.expected_routing(wg_env.get("alerting.routing"), source=wg_env.source)
    config_file = wg_env.get("alerting.alertmanager_config_file", None)
    if config_file:
        import yaml

        path = Path(str(config_file))
        path = path if path.is_absolute() else pytestconfig.rootpath / path
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        origin = str(path)
    else:
        url = str(wg_env.get("alertmanager.url"))
        config = alertmanager.status(url, timeout=float(wg_env.get("alertmanager.timeout_s", 5))).config
        origin = f"{url}/api/v2/status"
    evidence.json("alertmanager route tree", {"origin": origin, "route": config.get("route")})
    _problems(alerting.check_routing(config, expected), f"routing from {origin}")
