"""AL-2: where alerts end up in an Alertmanager configuration, against what is expected.

Expected routing (``alerting.routing`` in an environment file)::

    forbid_anywhere: [pagerduty]              # staging: no pagerduty_configs at all
    routes:
      - labels: {alertname: Any, severity: P1}
        require: [email, slack]               # every one of these integrations
        require_any: []                       # at least one of these
        forbid: [pagerduty]
        slack_channel: "#wimmelwelt-staging"

`check_routing` sends each expected route's sample labels through the route tree
(`pytest_wimmelgate.domain.alerting.matchers`) and checks the receivers it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.config.fields import check_keys
from pytest_wimmelgate.domain.alerting.matchers import match_routes
from pytest_wimmelgate.domain.alerting.problem import Problem
from pytest_wimmelgate.domain.alerting.rule_files import string_map
from pytest_wimmelgate.errors import ConfigError

#: Alertmanager receiver integrations, as ``<name>_configs`` keys.
INTEGRATIONS = frozenset(
    {
        "email",
        "slack",
        "pagerduty",
        "webhook",
        "opsgenie",
        "victorops",
        "pushover",
        "wechat",
        "telegram",
        "sns",
        "webex",
        "msteams",
        "msteamsv2",
        "discord",
        "jira",
        "rocketchat",
    }
)
ROUTING_KEYS = ("routes", "forbid_anywhere")
ROUTE_KEYS = ("labels", "require", "require_any", "forbid", "slack_channel", "name")


@dataclass(frozen=True)
class ExpectedRoute:
    """Where an alert with ``labels`` must end up."""

    labels: Mapping[str, str]
    require: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    slack_channel: str | None = None
    name: str = ""

    def describe(self) -> str:
        if self.name:
            return self.name
        return "alert {" + ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items())) + "}"


@dataclass(frozen=True)
class RoutingExpectation:
    routes: tuple[ExpectedRoute, ...]
    forbid_anywhere: tuple[str, ...] = ()


def expected_routing(
    mapping: Mapping[str, Any],
    *,
    source: str = "environment",
    key_path: str = "alerting.routing",
) -> RoutingExpectation:
    """Validate ``{forbid_anywhere: [...], routes: [{labels, require, require_any, forbid,
    slack_channel, name}]}``."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(source, key_path, "a mapping with routes and forbid_anywhere")
    check_keys(mapping, ROUTING_KEYS, source, key_path)
    forbid_anywhere = _integrations(mapping.get("forbid_anywhere"), source, f"{key_path}.forbid_anywhere")
    raw_routes = mapping.get("routes")
    if raw_routes is None:
        raw_routes = []
    if not isinstance(raw_routes, list):
        raise ConfigError(source, f"{key_path}.routes", "a list of expected routes")
    if not raw_routes and not forbid_anywhere:
        raise ConfigError(source, key_path, "at least one expected route or forbid_anywhere")
    routes = []
    for index, entry in enumerate(raw_routes):
        here = f"{key_path}.routes[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with labels and require")
        check_keys(entry, ROUTE_KEYS, source, here)
        labels = string_map(entry.get("labels"), source, f"{here}.labels", label_names=True)
        if not labels:
            raise ConfigError(source, f"{here}.labels", "the labels of a sample alert, e.g. {severity: P1}")
        channel = entry.get("slack_channel")
        if channel is not None and (not isinstance(channel, str) or not channel.strip()):
            raise ConfigError(source, f"{here}.slack_channel", "a Slack channel such as '#wimmelwelt-prod'")
        name = entry.get("name", "")
        routes.append(
            ExpectedRoute(
                labels=labels,
                require=_integrations(entry.get("require"), source, f"{here}.require"),
                require_any=_integrations(entry.get("require_any"), source, f"{here}.require_any"),
                forbid=_integrations(entry.get("forbid"), source, f"{here}.forbid"),
                slack_channel=channel,
                name=str(name),
            )
        )
    return RoutingExpectation(tuple(routes), forbid_anywhere)


def _integrations(value: Any, source: str, here: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(source, here, f"a list of integrations ({', '.join(sorted(INTEGRATIONS))})")
    names = []
    for index, item in enumerate(value):
        name = str(item).removesuffix("_configs")
        if name not in INTEGRATIONS:
            raise ConfigError(source, f"{here}[{index}]", f"one of {', '.join(sorted(INTEGRATIONS))}")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class _Receiver:
    name: str
    integrations: frozenset[str]
    slack_channels: tuple[str, ...]


def _receivers(config: Mapping[str, Any]) -> dict[str, _Receiver]:
    receivers: dict[str, _Receiver] = {}
    for entry in config.get("receivers") or ():
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("name", ""))
        kinds = frozenset(
            key.removesuffix("_configs")
            for key, value in entry.items()
            if isinstance(key, str) and key.endswith("_configs") and value
        )
        channels = tuple(
            str(slack.get("channel", "")) for slack in entry.get("slack_configs") or () if isinstance(slack, Mapping)
        )
        receivers[name] = _Receiver(name, kinds, channels)
    return receivers


def check_routing(
    alertmanager_config: Mapping[str, Any], expected: RoutingExpectation | Mapping[str, Any]
) -> list[Problem]:
    """Problems of an Alertmanager configuration against the expected routing."""
    if isinstance(expected, Mapping):
        expected = expected_routing(expected)
    problems: list[Problem] = []
    route = alertmanager_config.get("route")
    if not isinstance(route, Mapping):
        return [Problem("alertmanager config", "has no route tree ('route')")]
    receivers = _receivers(alertmanager_config)

    for receiver in receivers.values():
        for kind in expected.forbid_anywhere:
            if kind in receiver.integrations:
                problems.append(
                    Problem(
                        f"receiver {receiver.name!r}",
                        f"has {kind}_configs, forbidden in this environment",
                    )
                )

    for want in expected.routes:
        subject = want.describe()
        try:
            matches = match_routes(route, want.labels)
        except ConfigError as exc:
            problems.append(Problem(subject, str(exc)))
            continue
        via = ", ".join(f"{m.receiver!r} via {m.path}" for m in matches)
        kinds: set[str] = set()
        channels: list[str] = []
        for m in matches:
            target = receivers.get(m.receiver)
            if target is None:
                problems.append(Problem(subject, f"routes to undefined receiver {m.receiver!r} via {m.path}"))
                continue
            kinds |= target.integrations
            channels.extend(target.slack_channels)
        missing = [k for k in want.require if k not in kinds]
        if missing:
            problems.append(Problem(subject, f"reaches {via} without {_configs(missing)}"))
        if want.require_any and not kinds.intersection(want.require_any):
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} without any of {_configs(want.require_any)}",
                )
            )
        present = [k for k in want.forbid if k in kinds]
        if present:
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} which has {_configs(present)} (forbidden)",
                )
            )
        if want.slack_channel is not None and want.slack_channel not in channels:
            shown = ", ".join(repr(c) for c in channels) or "none"
            problems.append(
                Problem(
                    subject,
                    f"reaches {via} without Slack channel {want.slack_channel!r} (channels: {shown})",
                )
            )
    return problems


def _configs(kinds: Iterable[str]) -> str:
    return ", ".join(f"{kind}_configs" for kind in kinds)
