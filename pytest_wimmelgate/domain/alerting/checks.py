"""AL-1 and AL-2 as checks: fetch the rules or the routing, compare, return a `CheckResult`.

AL-1 reads the rules from the rule files (validated as promtool would) or from Prometheus
``/api/v1/rules``; AL-2 the routing from the Alertmanager configuration file or from
Alertmanager ``/api/v2/status``. A source that cannot be read fails with its category; a
difference from the expectations is a product defect listing the first findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.domain.alerting.expected_rules import check_rules
from pytest_wimmelgate.domain.alerting.problem import Problem
from pytest_wimmelgate.domain.alerting.routing import check_routing
from pytest_wimmelgate.domain.alerting.rule_files import flatten, load_rule_files
from pytest_wimmelgate.domain.alerting.settings import AlertingSettings
from pytest_wimmelgate.domain.result import CheckResult, Observed, measured
from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError, NotConfigured

if TYPE_CHECKING:
    from pytest_wimmelgate.config.sections.operations import AlertmanagerSettings
    from pytest_wimmelgate.metrics.settings import MetricSettings

SHOWN_PROBLEMS = 5


def _path(text: str, rootdir: Path) -> Path:
    path = Path(text)
    return path if path.is_absolute() else rootdir / path


def _require(problems: Sequence[Problem], what: str) -> None:
    if problems:
        shown = "; ".join(str(p) for p in problems[:SHOWN_PROBLEMS])
        more = f" (+{len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise CheckFailed(Category.PRODUCT, f"{what}: {shown}{more}", {"problems": [str(p) for p in problems]})


def check_rule_set(settings: AlertingSettings, rootdir: Path, metrics: MetricSettings | None = None) -> CheckResult:
    """AL-1: every expected alert exists with this environment's threshold and window.

    The rules come from ``rule_files`` (relative to ``rootdir``), else from Prometheus at
    ``alerting.prometheus_url`` or ``metrics.prometheus_url`` (with ``metrics.timeout_s``).
    """
    if settings.rules is None:
        raise NotConfigured("alerting.rules")
    expected = settings.rules
    url = settings.prometheus_url or (metrics.prometheus_url if metrics else None) or ""
    if not settings.rule_files and not url:
        raise NotConfigured("metrics.prometheus_url")

    def probe(seen: Observed) -> None:
        from pytest_wimmelgate.probes import prometheus

        if settings.rule_files:
            paths = [_path(f, rootdir) for f in settings.rule_files]
            origin = ", ".join(str(p) for p in paths)
            try:
                groups = load_rule_files(paths)
            except ConfigError as error:  # a malformed rule file: what the team must fix
                raise CheckFailed(Category.CONFIG, str(error)) from None
        else:
            origin = f"{url}/api/v1/rules"
            groups = prometheus.rules(url, timeout=metrics.timeout_s if metrics else 5.0)
        rules = flatten(groups)
        seen.evidence["origin"] = origin
        seen.evidence["rules"] = [{"alert": r.name, "expr": r.expr, "labels": dict(r.labels)} for r in rules]
        _require(check_rules(rules, expected), f"alert rules from {origin}")

    names = ", ".join(e.name for e in expected)
    return measured("AL-1", f"alert rules present with this environment's thresholds: {names}", probe)


def check_alert_routing(
    settings: AlertingSettings, rootdir: Path, alertmanager: AlertmanagerSettings | None = None
) -> CheckResult:
    """AL-2: sample alerts of each expected route reach the required receivers, and no
    forbidden integration (e.g. PagerDuty in staging) is configured.

    The configuration comes from ``alertmanager_config_file`` (relative to ``rootdir``),
    else from the ``alertmanager`` section's API.
    """
    if settings.routing is None:
        raise NotConfigured("alerting.routing")
    expected = settings.routing
    if not settings.alertmanager_config_file and alertmanager is None:
        raise NotConfigured("alertmanager.url")

    def probe(seen: Observed) -> None:
        config: Mapping[str, Any]
        if settings.alertmanager_config_file:
            path = _path(settings.alertmanager_config_file, rootdir)
            origin = str(path)
            config = _read_config(path)
        else:
            from pytest_wimmelgate.probes import alertmanager as api

            assert alertmanager is not None
            origin = f"{alertmanager.url}/api/v2/status"
            config = api.status(alertmanager.url, timeout=alertmanager.timeout_s).config
        seen.evidence["origin"] = origin
        seen.evidence["route"] = config.get("route")
        _require(check_routing(config, expected), f"routing from {origin}")

    return measured("AL-2", "alerts route to the receivers this environment requires, none to forbidden ones", probe)


def _read_config(path: Path) -> dict[str, Any]:
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckFailed(Category.CONFIG, f"{path}: a readable Alertmanager configuration ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CheckFailed(Category.CONFIG, f"{path}: valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(config, dict):
        raise CheckFailed(Category.CONFIG, f"{path}: an Alertmanager configuration (a mapping)")
    return config
