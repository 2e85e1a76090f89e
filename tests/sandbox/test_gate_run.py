"""How a gate run builds its sandbox from the environment file (no processes started)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment, load
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.sandbox.launcher import gate_run
from pytest_wimmelgate.sandbox.launcher.backend import DIALECT_ENV, backend_environ
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_YAML = ROOT / "environments" / "sandbox.yaml"


def _env(tmp_path: Path, body: str = "") -> Environment:
    path = tmp_path / "env.yaml"
    path.write_text(f"extends: {SANDBOX_YAML}\nname: t\n{body}", encoding="utf-8")
    return load(str(path), rootdir=ROOT, origin="test", environ={})


def _info(tmp_path: Path, **changes: object) -> SandboxInfo:
    data = json.loads((Path(__file__).parent / "sandbox_info.json").read_text())
    data.update({"workdir": str(tmp_path), **changes})
    return SandboxInfo.from_dict(data)


def test_dialect_of_the_environment_reaches_the_backend_process(tmp_path: Path) -> None:
    sandbox = gate_run.sandbox_for(_env(tmp_path, "sandbox: {dialect: parse}\n"), tmp_path / "w", ())
    assert sandbox.dialect == "parse"
    info = _info(tmp_path, dialect="parse")
    env = backend_environ(
        info,
        faults="",
        traffic_rps=0,
        version="1",
        commit="c",
        storage_mode="s3",
        log_file=tmp_path / "b.jsonl",
        login_limit=5,
        dialect=sandbox.dialect,
    )
    assert env[DIALECT_ENV] == "parse"


def test_default_dialect_is_wimmelwelt(tmp_path: Path) -> None:
    assert gate_run.sandbox_for(_env(tmp_path), tmp_path / "w", ()).dialect == "wimmelwelt"


def test_unknown_dialect_is_a_configuration_error_naming_the_key(tmp_path: Path) -> None:
    """Refused when the file is read, before any sandbox process starts."""
    with pytest.raises(ConfigError) as caught:
        _env(tmp_path, "sandbox: {dialect: klingon}\n")
    assert caught.value.key_path == "sandbox.dialect"


def test_monitoring_urls_of_a_sandbox_without_monitoring_resolve_to_empty(tmp_path: Path) -> None:
    """``${SANDBOX_PROMETHEUS_URL}`` (no default) still resolves: to "" when none runs."""
    variables = gate_run.variables_of(_info(tmp_path, prometheus_url=None, alertmanager_url=None))
    assert variables["SANDBOX_PROMETHEUS_URL"] == "" and variables["SANDBOX_ALERTMANAGER_URL"] == ""
    env = _env(tmp_path, "alerting: {prometheus_url: '${SANDBOX_PROMETHEUS_URL}'}\n").with_variables(variables)
    assert env.get("alerting.prometheus_url") == ""
    assert env.get("metrics.prometheus_url") == ""


def test_sandbox_info_of_an_older_version_without_dialect_still_loads(tmp_path: Path) -> None:
    data = _info(tmp_path).to_dict()
    del data["dialect"]
    assert SandboxInfo.from_dict(data).dialect == "wimmelwelt"
