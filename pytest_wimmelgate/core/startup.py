"""Setting up a run: environment, secrets, sandbox, run context, run folder, Allure.

`GateStart.for_controller` decides whether a run is a gate run and prepares it;
`GateStart.for_worker` rebuilds the same state on an xdist worker from what the
controller sent. Everything here raises `WimmelgateError` on bad input; the plugin
turns that into one line and exit 4.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.release_folder import create_run_dir
from pytest_wimmelgate.artifacts.report import require_cli
from pytest_wimmelgate.config.environment import Environment, load, locate, validate
from pytest_wimmelgate.config.secrets import SecretSet, looks_secret
from pytest_wimmelgate.config.sections import validate_sections
from pytest_wimmelgate.core import options, selection
from pytest_wimmelgate.core import run as runmod
from pytest_wimmelgate.core.session import USER_ALLURE_DIR, GateSession
from pytest_wimmelgate.errors import ConfigError, WimmelgateError

ALWAYS_RESOLVED = ("waivers", "runbook_url", "name", "protected")
NAME_SECTIONS = frozenset({"variables", "secrets"})  # sections naming variables rather than holding values


@dataclass
class PassiveState:
    """A run that is not a gate run: plain pytest, the fixtures still work."""

    env: Environment
    secrets: SecretSet
    target_variables: Mapping[str, str] = field(default_factory=dict)
    sandbox_variables: dict[str, str] = field(default_factory=dict)


class GateStart:
    """Factory of the run state (no instances)."""

    @staticmethod
    def for_controller(config: pytest.Config) -> PassiveState | GateSession:
        environ = dict(os.environ)
        spec, origin = options.resolve(config, "wg_env", environ)
        markexpr = config.option.markexpr or ""
        gate_run = selection.is_gate_run(markexpr, list(config.args), config.rootpath)
        env = _load_env(str(spec), origin, config.rootpath, required=gate_run or origin != "default")
        target = _target_variables(config, environ)
        secrets = _secrets(env, {**environ, **target})
        if not gate_run:
            return PassiveState(env, secrets, target)
        checks = selection.selected_checks(markexpr)
        needed = (*ALWAYS_RESOLVED, *selection.sections_used(checks))
        report_mode, _ = options.resolve(config, "wg_report", environ)
        allure_cli = require_cli(str(report_mode), root=config.rootpath)
        sandbox_variables = _start_sandbox_if_needed(config, env, needed, environ)
        env = env.with_variables(sandbox_variables)
        env.require(needed)
        validate(env, resolved_sections=[s for s in needed if env.has(s)])
        validate_sections(env, needed)
        secrets = secrets + _secrets(env, {**environ, **target, **env.variables})
        context = _context(config, env, environ, selection.gates_in(markexpr))
        _prepare_outputs(config, Path(context.run_dir))
        _attach_allure(config, Path(context.run_dir) / "allure-results", secrets)
        session = GateSession(
            config, env=env, secrets=secrets, context=context, sandbox_variables=sandbox_variables, worker=False
        )
        session.target_variables = target
        session.report_mode, session.allure_cli = str(report_mode), allure_cli
        return session

    @staticmethod
    def for_worker(config: pytest.Config, data: Mapping[str, Any]) -> GateSession:
        environ = dict(os.environ)
        spec, origin = options.resolve(config, "wg_env", environ)
        sandbox_variables = dict(data["sandbox_variables"])
        env = _load_env(str(spec), origin, config.rootpath, required=True)
        env = env.with_variables(sandbox_variables)
        target = _target_variables(config, environ)
        secrets = _secrets(env, {**environ, **target, **env.variables})
        context = runmod.RunContext.from_dict(data["context"])
        _attach_allure(config, Path(context.run_dir) / "allure-results", secrets)
        session = GateSession(
            config, env=env, secrets=secrets, context=context, sandbox_variables=sandbox_variables, worker=True
        )
        session.target_variables = target
        return session


def _load_env(spec: str, origin: str, rootdir: Path, *, required: bool) -> Environment:
    if not required:
        try:
            locate(spec, rootdir)
        except ConfigError:
            return Environment(name="none", source="(no environment file)", origin=origin, raw={})
    return load(spec, rootdir=rootdir, origin=origin)


def _target_variables(config: pytest.Config, environ: Mapping[str, str]) -> dict[str, str]:
    path, _ = options.resolve(config, "wg_env_file", dict(environ))
    if not path:
        return {}
    from pytest_wimmelgate.config.dotenv import load_dotenv

    return dict(load_dotenv(Path(str(path))))


def _secrets(env: Environment, variables: Mapping[str, str]) -> SecretSet:
    names = [str(n) for n in env.raw.get("secrets", []) or []] if isinstance(env.raw.get("secrets"), list) else []
    values: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if (path == "" and key in NAME_SECTIONS) or str(key).endswith("_variable"):
                    continue  # these hold variable names, not values
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, str) and looks_secret(path.rsplit(".", 1)[-1]):
            try:
                resolved = env.get(path)
            except WimmelgateError:
                return
            if isinstance(resolved, str):
                values.append(resolved)

    walk(env.raw, "")
    return SecretSet.collect(variables, extra_names=names, extra_values=values)


def _start_sandbox_if_needed(
    config: pytest.Config, env: Environment, needed: tuple[str, ...], environ: Mapping[str, str]
) -> dict[str, str]:
    if not env.has("sandbox"):
        return {}
    mode = env.get("sandbox.start", "auto")
    if mode == "never":
        return {}
    unresolved = {u.variable for u in env.unresolved_in(needed)}
    wants = any(name.startswith("SANDBOX_") for name in unresolved)
    if mode == "auto" and (not wants or environ.get("SANDBOX_BASE_URL")):
        return {}
    from pytest_wimmelgate.sandbox.launcher.gate_run import start_for_run

    return start_for_run(config, env, needed)


def _context(
    config: pytest.Config, env: Environment, environ: Mapping[str, str], gates: list[str]
) -> runmod.RunContext:
    started = runmod.utc_now()
    version, version_source = options.resolve(config, "wg_version", dict(environ))
    if not version:
        version, version_source = runmod.ci_version(environ), "CI"
    if not version:
        version, version_source = _health_version(env), "/health"
    if not version:
        version, version_source = "unversioned", "fallback"
    commit, commit_source = options.resolve(config, "wg_commit", dict(environ))
    if not commit:
        commit, commit_source = runmod.ci_commit(environ), "CI"
    if not commit:
        commit, commit_source = runmod.git_commit(str(config.rootpath)), "git rev-parse HEAD"
    if not commit:
        commit, commit_source = "unknown", "fallback"
    now_text, now_source = options.resolve(config, "wg_now", dict(environ))
    now = runmod.parse_instant(str(now_text), now_source) if now_text else started
    tester_option, _ = options.resolve(config, "wg_tester", dict(environ))
    approvals = tuple(config.getoption("wg_approval") or ())
    if approvals:
        from pytest_wimmelgate.domain.approvals import parse_approvals

        parse_approvals(approvals)
    root, _ = options.resolve(config, "wg_release_dir", dict(environ))
    root_path = Path(str(root))
    if not root_path.is_absolute():
        root_path = Path.cwd() / root_path
    run_dir = create_run_dir(root_path, str(version), env.name, gates, started)
    return runmod.RunContext(
        run_id=runmod.new_run_id(),
        version=str(version),
        version_source=version_source,
        commit=str(commit),
        commit_source=commit_source,
        tester=runmod.tester(tester_option, environ),
        started_at=runmod.iso(started),
        now=runmod.iso(now),
        approvals=approvals,
        allow_destructive=bool(config.getoption("wg_allow_destructive")),
        run_dir=str(run_dir),
        gates=tuple(gates),
    )


def _health_version(env: Environment) -> str | None:
    """The version the target reports on /health, when it answers within 2 s."""
    try:
        base = env.get("backend.base_url")
        path = env.get("backend.paths.health", "/health")
    except WimmelgateError:
        return None
    import requests

    try:
        answer = requests.get(f"{str(base).rstrip('/')}{path}", timeout=2)
        version = answer.json().get("version") if answer.ok else None
    except (requests.RequestException, ValueError, AttributeError):
        return None
    return str(version) if version else None


def _prepare_outputs(config: pytest.Config, run_dir: Path) -> None:
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / "junit.xml")
    user_dir = getattr(config.option, "allure_report_dir", None)
    if user_dir:
        config.stash[USER_ALLURE_DIR] = os.path.abspath(user_dir)
        config.option.allure_report_dir = None


def _attach_allure(config: pytest.Config, results_dir: Path, secrets: SecretSet) -> None:
    """Register allure-pytest's listener with a redacting file logger in its place."""
    import allure_commons
    from allure_pytest.listener import AllureListener

    from pytest_wimmelgate.artifacts.redacting_logger import RedactingFileLogger

    if hasattr(config.option, "allure_report_dir"):
        config.option.allure_report_dir = None
    listener = AllureListener(config)
    logger = RedactingFileLogger(results_dir, secrets)
    config.pluginmanager.register(listener, "allure_listener")
    allure_commons.plugin_manager.register(listener)
    allure_commons.plugin_manager.register(logger)

    def release() -> None:
        for plugin in (listener, logger):
            if allure_commons.plugin_manager.is_registered(plugin):
                allure_commons.plugin_manager.unregister(plugin)

    config.add_cleanup(release)
