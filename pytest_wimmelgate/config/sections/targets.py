"""The target's own sections: the sandbox to start, the smoke account, the database, faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node


@dataclass(frozen=True)
class SandboxSettings:
    """How the reference backend is started for a run (``sandbox`` section)."""

    start: str = "auto"
    storage: str = "s3"
    traffic_rps: float = 5.0
    prometheus: str = "auto"
    alertmanager: str = "auto"
    faults: str = ""
    version: str = "0.0.0-sandbox"
    commit: str = "sandbox"
    dialect: str = "wimmelwelt"


def parse_sandbox(tree: Any, source: str) -> SandboxSettings:
    node = Node(tree, source, "sandbox")
    modes = ("auto", "on", "off")
    return SandboxSettings(
        start=node.choice("start", ("auto", "always", "never"), "auto"),
        storage=node.choice("storage", ("s3", "local"), "s3"),
        traffic_rps=node.number("traffic_rps", 5, above=-1),
        prometheus=node.choice("prometheus", modes, "auto"),
        alertmanager=node.choice("alertmanager", modes, "auto"),
        faults=node.optional_text("faults") or "",
        version=node.text("version", "0.0.0-sandbox"),
        commit=node.text("commit", "sandbox"),
        dialect=node.text("dialect", "wimmelwelt"),
    )


@dataclass(frozen=True)
class SmokeAccount:
    """The dedicated test account of the smoke checks."""

    username: str
    password: str = field(repr=False)


def parse_smoke_account(tree: Any, source: str) -> SmokeAccount:
    node = Node(tree, source, "smoke_account")
    return SmokeAccount(node.text("username"), node.text("password"))


@dataclass(frozen=True)
class DatabaseSettings:
    """The target's database, for checks that read it directly."""

    uri: str = field(repr=False)


def parse_database(tree: Any, source: str) -> DatabaseSettings:
    node = Node(tree, source, "database")
    return DatabaseSettings(node.text("uri"))


@dataclass(frozen=True)
class FaultSettings:
    """How destructive checks block a dependency, and their time bounds."""

    provider: str = "sandbox"
    block_bound_s: float = 10.0
    recovery_bound_s: float = 30.0
    command: Mapping[str, Any] = field(default_factory=dict)
    http: Mapping[str, Any] = field(default_factory=dict)

    def provider_settings(self) -> dict[str, Any]:
        """The mapping `faults.make_provider` reads (the bounds arm the fault guard)."""
        return {
            "provider": self.provider,
            "command": dict(self.command),
            "http": dict(self.http),
            "block_bound_s": self.block_bound_s,
            "recovery_bound_s": self.recovery_bound_s,
        }


def parse_faults(tree: Any, source: str) -> FaultSettings:
    node = Node(tree, source, "faults")
    provider = node.choice("provider", ("sandbox", "command", "http"), "sandbox")
    command: dict[str, Any] = {}
    http: dict[str, Any] = {}
    if provider == "command":
        part = node.child("command")
        command = {
            "block": part.text("block"),
            "unblock": part.text("unblock"),
            "timeout_s": part.seconds("timeout_s", 60),
        }
    elif provider == "http":
        part = node.child("http")
        http = {"url": part.url("url"), "timeout_s": part.seconds("timeout_s", 10)}
        token = part.optional_text("token")
        if token is not None:
            http["token"] = token
    return FaultSettings(
        provider=provider,
        block_bound_s=node.seconds("block_bound_s", 10),
        recovery_bound_s=node.seconds("recovery_bound_s", 30),
        command=command,
        http=http,
    )
