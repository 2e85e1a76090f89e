"""Real sandboxes in both API dialects, and contract clients for them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_wimmelgate.config.environment import load
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections.targets import SmokeAccount
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.model import BackendSettings
from pytest_wimmelgate.contract.parse import parse_backend
from pytest_wimmelgate.sandbox.launcher.gate_run import variables_of
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox

ROOT = Path(__file__).resolve().parents[2]
OTHER_BACKEND = ROOT / "environments" / "examples" / "other-backend.yaml"
SANDBOX_YAML = ROOT / "environments" / "sandbox.yaml"


def _start(tmp: Path, dialect: str) -> Sandbox:
    return Sandbox(tmp, prometheus="off", alertmanager="off", traffic_rps=0, login_limit=5, dialect=dialect)


@pytest.fixture(scope="session")
def parse_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A sandbox whose backend serves the second ("parse") dialect."""
    box = _start(tmp_path_factory.mktemp("parse-sandbox"), "parse")
    try:
        yield box.start()
    finally:
        box.stop()


def settings_for(env_file: Path, info: SandboxInfo, extra: dict[str, Any] | None = None) -> BackendSettings:
    """The backend settings an environment file describes for a running sandbox."""
    env = load(str(env_file), rootdir=ROOT, variables=variables_of(info))
    section = {**env.get("backend"), **(extra or {})}
    return parse_backend(section, env.source)


def client_for(settings: BackendSettings, info: SandboxInfo, secrets: SecretSet | None = None) -> ContractClient:
    return ContractClient(
        settings,
        f"wg-{uuid.uuid4().hex[:12]}",
        secrets or SecretSet(),
        SmokeAccount(info.smoke_user, info.smoke_password),
    )


def stats(info: SandboxInfo) -> dict[str, Any]:
    """The sandbox's own count of open sessions and records (``/_sandbox/stats``)."""
    return dict(requests.get(f"{info.base_url}/_sandbox/stats", timeout=5).json())
