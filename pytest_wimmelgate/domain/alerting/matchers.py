"""Alertmanager's route tree, walked as Alertmanager walks it.

A route matches when all its ``matchers`` (and legacy ``match``/``match_re``) match; its
children are tried in order and the first matching child wins unless it has
``continue: true``; with no matching child the route itself is the match; ``receiver`` is
inherited from the parent. Matchers use Alertmanager's syntax: ``severity=~"P1|P2"``,
``{a="b", c!=d}``; an absent label is the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.errors import ConfigError


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")  # an absent label is the empty string
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(f"(?:{self.value})", actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


_MATCHER = re.compile(
    r"""\s*(?P<name>[^\s=!~,{}"]+|"(?:[^"\\]|\\.)*")\s*(?P<op>=~|!~|!=|=)\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|[^,}]*?)\s*(?:,|$)"""
)


def parse_matchers(text: str) -> list[Matcher]:
    """Alertmanager matcher syntax: ``severity=~"P1|P2"``, ``{a="b", c!=d}``."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        match = _MATCHER.match(body, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"bad matcher {text!r}")
        name = _unquote(match.group("name"))
        matchers.append(Matcher(name, match.group("op"), _unquote(match.group("value").strip())))
        pos = match.end()
    if not matchers:
        raise ValueError(f"empty matcher {text!r}")
    return matchers


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner)
    return text


@dataclass(frozen=True)
class RouteMatch:
    """A route an alert ends up on: its path in the tree and its (inherited) receiver."""

    path: str
    receiver: str


def route_matchers(route: Mapping[str, Any], path: str = "route") -> list[Matcher]:
    matchers: list[Matcher] = []
    for index, item in enumerate(route.get("matchers") or ()):
        try:
            matchers.extend(parse_matchers(str(item)))
        except ValueError as exc:
            raise ConfigError("alertmanager config", f"{path}.matchers[{index}]", str(exc)) from None
    for name, value in (route.get("match") or {}).items():
        matchers.append(Matcher(str(name), "=", str(value)))
    for name, value in (route.get("match_re") or {}).items():
        matchers.append(Matcher(str(name), "=~", str(value)))
    return matchers


def match_routes(route: Mapping[str, Any], labels: Mapping[str, str]) -> list[RouteMatch]:
    """The routes an alert with ``labels`` is delivered by, as Alertmanager decides."""
    return _match(route, labels, "route", "")


def _match(route: Mapping[str, Any], labels: Mapping[str, str], path: str, parent_receiver: str) -> list[RouteMatch]:
    if not all(m.matches(labels) for m in route_matchers(route, path)):
        return []
    receiver = str(route.get("receiver") or parent_receiver)
    found: list[RouteMatch] = []
    for index, child in enumerate(route.get("routes") or ()):
        if not isinstance(child, Mapping):
            continue
        hits = _match(child, labels, f"{path}.routes[{index}]", receiver)
        found.extend(hits)
        if hits and not child.get("continue", False):
            break
    return found or [RouteMatch(path, receiver)]
