"""`parse_backend`: the environment's ``backend`` section, laid over the shipped default contract.

The default (`wimmelwelt.yaml`, shipped as data) is a ``backend`` section without
``base_url``. The environment's section is laid over it: mappings merge key by key, a step
under ``contract`` is replaced as a whole, ``null`` removes a step or a header, lists are
replaced; ``based_on: none`` starts from nothing. The result is checked completely
(`references.check_contract`) before any check runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node
from pytest_wimmelgate.contract import references
from pytest_wimmelgate.contract.model import (
    AuthSettings,
    BackendSettings,
    CleanupSettings,
    Contract,
    ProbeSettings,
    PushSettings,
    RateLimit,
    ReadinessSettings,
    SweepEntry,
)
from pytest_wimmelgate.contract.steps import STEP_NAME, condition, headers, parse_step, statuses
from pytest_wimmelgate.errors import ConfigError

SECTION = "backend"
BASES = ("wimmelwelt", "none")
TOP_KEYS = (
    "base_url",
    "timeout_s",
    "based_on",
    "expect_version",
    "expect_commit",
    "expect_storage",
    "rate_limit_attempts",
    "push_delivery_timeout_s",
    "headers",
    "session_headers",
    "contract",
    "health",
    "version",
    "readiness",
    "auth",
    "push",
    "gone_status",
    "sweep",
    "cleanup",
)
REPLACED_WHOLE = ("contract",)  # children of these are replaced, not merged


def parse_backend(node: Any, source: str) -> BackendSettings:
    """The frozen backend settings of one environment file; `ConfigError` on the first mistake."""
    if not isinstance(node, Mapping):
        raise ConfigError(source, SECTION, "expected a mapping with at least base_url")
    user = Node(node, source, SECTION)
    user.only(TOP_KEYS)
    base = user.choice("based_on", BASES, BASES[0])
    merged = merge(default_section(base), {k: v for k, v in node.items() if k != "based_on"})
    section = Node(merged, source, SECTION)
    contract = Contract(
        steps={name: parse_step(name, value, source, f"{SECTION}.contract.{name}") for name, value in _steps(section)},
        headers=headers(section, "headers"),
        session_headers=headers(section, "session_headers"),
    )
    settings = BackendSettings(
        source=source,
        base_url=section.url("base_url").rstrip("/"),
        contract=contract,
        timeout_s=section.seconds("timeout_s", 5),
        expect_version=section.optional_text("expect_version"),
        expect_commit=section.optional_text("expect_commit"),
        expect_storage=section.optional_text("expect_storage"),
        gone_status=statuses(section, "gone_status", (404,)),
        health=_probe(section.child("health"), "health"),
        version=_version(section.child("version")),
        readiness=_readiness(section.child("readiness")),
        auth=_auth(section.child("auth"), section.whole("rate_limit_attempts", 10, minimum=1)),
        push=_push(section.child("push"), section.seconds("push_delivery_timeout_s", 10)),
        sweep=_sweep(section),
        cleanup=_cleanup(section.child("cleanup")),
    )
    references.check_contract(settings)
    return settings


@lru_cache(maxsize=4)
def _default_text(base: str) -> str:
    return resources.files("pytest_wimmelgate").joinpath(f"contract/{base}.yaml").read_text(encoding="utf-8")


def default_section(base: str = BASES[0]) -> dict[str, Any]:
    """A fresh copy of a shipped contract (``none``: an empty one)."""
    if base == "none":
        return {}
    import yaml

    loaded = yaml.safe_load(_default_text(base))
    return dict(loaded) if isinstance(loaded, dict) else {}


def merge(
    base: Mapping[str, Any], override: Mapping[str, Any], *, depth: int = 0, whole: bool = False
) -> dict[str, Any]:
    """``override`` laid over ``base``: mappings merge, ``null`` removes, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif not whole and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value, depth=depth + 1, whole=depth == 0 and key in REPLACED_WHOLE)
        else:
            merged[key] = value
    return merged


def _steps(section: Node) -> list[tuple[str, Any]]:
    contract = section.child("contract")
    found = []
    for name in contract:
        if not STEP_NAME.match(str(name)):
            raise ConfigError(
                section.source, contract.where(str(name)), "expected a step name of lower-case letters, digits and _"
            )
        if contract.raw(name) is not None:
            found.append((str(name), contract.raw(name)))
    return found


def _probe(node: Node, default_request: str) -> ProbeSettings:
    node.only(("request", "status", "condition"))
    return ProbeSettings(
        request=node.text("request", default_request),
        ok_status=statuses(node, "status", (200,)),
        condition=condition(node, "condition"),
    )


def _version(node: Node) -> str:
    node.only(("request",))
    return node.text("request", "health")


def _readiness(node: Node) -> ReadinessSettings:
    node.only(("request", "status", "not_ready_status", "condition"))
    return ReadinessSettings(
        request=node.text("request", "readiness"),
        ok_status=statuses(node, "status", (200,)),
        condition=condition(node, "condition"),
        not_ready_status=statuses(node, "not_ready_status", (503,)),
    )


def _auth(node: Node, max_attempts: int) -> AuthSettings:
    node.only(("wrong_password_status", "no_token_status", "rate_limit"))
    limit = node.child("rate_limit")
    limit.only(("status", "retry_after_header", "absent"))
    absent = limit.optional_text("absent")
    if absent is not None and "status" in limit:
        raise limit.error("absent", "expected either status (the rate limit answer) or absent (a reason), not both")
    if absent is not None:
        rate_limit = RateLimit(status=None, retry_after_header=None, max_attempts=max_attempts, absent_reason=absent)
    else:
        rate_limit = RateLimit(
            status=statuses(limit, "status", (429,))[0],
            retry_after_header=limit.optional_text("retry_after_header"),
            max_attempts=max_attempts,
        )
    return AuthSettings(
        wrong_password_status=statuses(node, "wrong_password_status", (401,)),
        no_token_status=statuses(node, "no_token_status", (401,)),
        rate_limit=rate_limit,
    )


def _push(node: Node, timeout_s: float) -> PushSettings:
    node.only(("delivery",))
    delivery = node.child("delivery")
    delivery.only(("request", "delivered", "pending", "not_verifiable"))
    reason = delivery.optional_text("not_verifiable")
    if reason is not None:
        if "request" in delivery:
            raise delivery.error(
                "not_verifiable",
                "expected either request (a delivery status step) or not_verifiable (a reason), not both",
            )
        return PushSettings(timeout_s=timeout_s, not_verifiable=reason)
    request = delivery.optional_text("request")
    if request is None:
        return PushSettings(timeout_s=timeout_s)
    delivered = condition(delivery, "delivered")
    if delivered is None:
        raise delivery.error("delivered", "expected a JMESPath condition that holds once the push is delivered")
    return PushSettings(
        delivery_request=request, delivered=delivered, pending=condition(delivery, "pending"), timeout_s=timeout_s
    )


def _sweep(section: Node) -> tuple[SweepEntry, ...]:
    value = section.raw("sweep")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise section.error("sweep", "expected a list of {kind, list, ids, delete, as}")
    entries = []
    for index, item in enumerate(value):
        node = Node(item, section.source, f"{SECTION}.sweep[{index}]")
        node.only(("kind", "list", "list_all", "ids", "delete", "as"))
        entries.append(
            SweepEntry(
                kind=node.text("kind"),
                list=node.text("list"),
                ids=node.text("ids"),
                delete=node.text("delete"),
                bind=node.text("as"),
                list_all=node.optional_text("list_all"),
            )
        )
    return tuple(entries)


def _cleanup(node: Node) -> CleanupSettings:
    node.only(("retry_bound_s", "retry_interval_s"))
    return CleanupSettings(
        retry_bound_s=node.number("retry_bound_s", 30, above=-1),
        retry_interval_s=node.seconds("retry_interval_s", 1),
    )
