"""Setting up a gate run: options, environment, typed settings, sandbox, run context, run folder.

`GateStart.for_controller` runs in ``pytest_sessionstart``, once tests will run: it reads
every option and every section the selected checks use before anything heavy starts
(bad input is exit 4 with one line, no run folder, no sandbox), then starts the sandbox
if the run needs one, resolves the rest, names the run and creates its folder.
`GateStart.for_worker` rebuilds the same state on an xdist worker from what the
controller sent: no file is read twice and nothing is parsed differently.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.allure_results import ResultShape
from pytest_wimmelgate.config import sections
from pytest_wimmelgate.config.environment import Environment, load, locate
from pytest_wimmelgate.config.secrets import SecretSet, looks_secret
from pytest_wimmelgate.core import options, selection
from pytest_wimmelgate.core import run as runmod
from pytest_wimmelgate.core.completeness import Selection
from pytest_wimmelgate.core.session import GateSession
from pytest_wimmelgate.errors import ConfigError

NAME_SECTIONS = frozenset({"variables", "secrets"})  # sections naming variables rather than holding values
PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RunOptions:
    """Every plugin option of a run, parsed and checked once, before anything starts."""

    env_spec: str
    env_origin: str
    release_root: Path
    version: str | None
    version_source: str
    commit: str | None
    commit_source: str
    now_text: str | None
    now_source: str
    tester: str | None
    env_file: str | None
    report_mode: str
    watch: str | None
    watch_interval: str | None
    approvals: tuple[str, ...] = ()
    allow_destructive: bool = False


def read_options(config: pytest.Config, environ: Mapping[str, str]) -> RunOptions:
    """Resolve and check every option (CLI > env var > ini > default); raises `ConfigError`."""
    env = dict(environ)

    def value(dest: str) -> tuple[str | None, str]:
        found, origin = options.resolve(config, dest, env)
        return (str(found) if found not in (None, "") else None), origin

    spec, env_origin = value("wg_env")
    root_text, root_origin = value("wg_release_dir")
    version, version_source = value("wg_version")
    commit, commit_source = value("wg_commit")
    now_text, now_source = value("wg_now")
    if now_text:
        runmod.parse_instant(now_text, now_source)
    watch, watch_origin = value("wg_watch")
    interval, interval_origin = value("wg_watch_interval")
    if watch is not None or interval is not None:
        from pytest_wimmelgate.metrics.settings import MetricSettings, apply_watch_options

        apply_watch_options(MetricSettings(), watch, None, watch_origin)
        apply_watch_options(MetricSettings(), None, interval, interval_origin)
    approvals = tuple(config.getoption("wg_approval") or ())
    if approvals:
        from pytest_wimmelgate.domain.approvals import parse_approvals

        parse_approvals(approvals)
    report, _ = value("wg_report")
    env_file, _ = value("wg_env_file")
    tester, _ = value("wg_tester")
    return RunOptions(
        env_spec=spec or "sandbox",
        env_origin=env_origin,
        release_root=release_root(root_text or "releases", root_origin),
        version=version,
        version_source=version_source,
        commit=commit,
        commit_source=commit_source,
        now_text=now_text,
        now_source=now_source,
        tester=tester,
        env_file=env_file,
        report_mode=report or "auto",
        watch=watch,
        watch_interval=interval,
        approvals=approvals,
        allow_destructive=bool(config.getoption("wg_allow_destructive")),
    )


def release_root(text: str, origin: str) -> Path:
    """The release folder's root: a directory we may write, outside the installed package."""
    root = Path(text)
    if not root.is_absolute():
        root = Path.cwd() / root
    root = root.resolve()
    if root == PACKAGE_DIR or PACKAGE_DIR in root.parents:
        raise ConfigError(origin, "", "a release folder outside the pytest_wimmelgate package")
    probe = root
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(origin, "", f"a folder (the path {_shown(root, probe)} is a file)")
    try:  # try it: os.access says yes to root even where nothing can be created
        tempfile.TemporaryDirectory(dir=probe, prefix=".wimmelgate-probe-").cleanup()
    except OSError:
        raise ConfigError(origin, "", f"a folder this user may write ({_shown(root, probe)} is not writable)") from None
    return root


def _shown(root: Path, probe: Path) -> str:
    return str(probe) if probe != root else str(root)


@dataclass
class PassiveState:
    """A run that is not a gate run: plain pytest. The fixtures still work, loaded on first use."""

    config: pytest.Config
    sandbox_variables: dict[str, str] = field(default_factory=dict)

    @cached_property
    def env(self) -> Environment:
        spec, origin = options.resolve(self.config, "wg_env", dict(os.environ))
        try:
            locate(str(spec), self.config.rootpath)
        except ConfigError:
            if origin == "default":
                return Environment(name="none", source="(no environment file)", origin=origin, raw={})
            raise
        return load(str(spec), rootdir=self.config.rootpath, origin=origin)

    @cached_property
    def target_variables(self) -> Mapping[str, str]:
        path, _ = options.resolve(self.config, "wg_env_file", dict(os.environ))
        return _dotenv(str(path)) if path else {}

    @cached_property
    def secrets(self) -> SecretSet:
        return _secrets(self.env, {**os.environ, **self.target_variables})

    @cached_property
    def settings(self) -> sections.RunSettings:
        return sections.parse_sections(self.env, sections.PARSERS)


class GateStart:
    """Factory of the run state (no instances)."""

    @staticmethod
    def for_controller(config: pytest.Config) -> GateSession:
        environ = dict(os.environ)
        opts = read_options(config, environ)
        markexpr = config.option.markexpr or ""
        env = load(opts.env_spec, rootdir=config.rootpath, origin=opts.env_origin, environ=environ)
        target = _dotenv(opts.env_file) if opts.env_file else {}
        checks = selection.selected_checks(markexpr)
        needed = selection.sections_used(checks)
        early = [s for s in needed if not env.mentions(s, "SANDBOX_")]
        sections.parse_sections(env, early)  # bad input ends the run before the sandbox starts
        sandbox_variables = _start_sandbox_if_needed(config, env, needed, environ)
        env = env.with_variables(sandbox_variables)
        settings = sections.parse_sections(env, needed)
        secrets = _secrets(env, {**environ, **target, **env.variables}, settings.resolved)
        if settings.has("backend"):
            from pytest_wimmelgate.contract.secrets import startup_secrets

            secrets.add(*startup_secrets(settings.resolved, settings.get("backend")))
        context = _context(config, opts, settings, secrets, environ, selection.gates_in(markexpr))
        from pytest_wimmelgate.artifacts.release_folder import component, create_run_dir

        version_dir = opts.release_root / component(context.version)
        fresh = [
            d for d in (version_dir / component(settings.rules.name), version_dir, opts.release_root) if not d.exists()
        ]
        run_dir = create_run_dir(
            opts.release_root,
            context.version,
            settings.rules.name,
            context.gates,
            runmod.parse_instant(context.started_at, "started_at"),
        )
        context = runmod.RunContext(**{**context.to_dict(), "run_dir": str(run_dir)})
        session = _session(config, env, settings, secrets, context, sandbox_variables, target, worker=False)
        session.created_dirs = tuple(fresh)
        from pytest_wimmelgate.artifacts.report import require_cli

        session.report_mode = opts.report_mode
        session.allure_cli = require_cli(opts.report_mode, root=config.rootpath)
        return session

    @staticmethod
    def for_worker(config: pytest.Config, data: Mapping[str, Any]) -> GateSession:
        environ = dict(os.environ)
        sandbox_variables = dict(data["sandbox_variables"])
        file = data["environment"]
        env = Environment(
            name=file["name"],
            source=file["source"],
            origin=file["origin"],
            raw=file["raw"],
            variables=sandbox_variables,
            environ=environ,
        )
        resolved = dict(data["settings"])
        settings = sections.from_resolved(resolved.pop("top"), resolved, env.source, env.name, data["absent"])
        secrets = SecretSet.from_data(data["secrets"])
        context = runmod.RunContext.from_dict(data["context"])
        target = dict(data["target_variables"])
        return _session(config, env, settings, secrets, context, sandbox_variables, target, worker=True)


def _session(
    config: pytest.Config,
    env: Environment,
    settings: sections.RunSettings,
    secrets: SecretSet,
    context: runmod.RunContext,
    sandbox_variables: dict[str, str],
    target: Mapping[str, str],
    *,
    worker: bool,
) -> GateSession:
    """The gate session of this process, with allure-pytest writing through the redacting logger."""
    shape = ResultShape(gates=tuple(context.gates))  # the session adds the shared titles after collection
    _attach_allure(config, Path(context.run_dir) / "allure-results", secrets, shape)
    session = GateSession(
        config,
        env=env,
        settings=settings,
        secrets=secrets,
        context=context,
        sandbox_variables=sandbox_variables,
        worker=worker,
    )
    session.target_variables = dict(target)
    session.result_shape = shape
    return session


def _dotenv(path: str) -> dict[str, str]:
    from pytest_wimmelgate.config.dotenv import load_dotenv

    return dict(load_dotenv(Path(path)))


def _secrets(env: Environment, variables: Mapping[str, str], resolved: Mapping[str, Any] | None = None) -> SecretSet:
    """The run's secret set: secret-named variables, listed names, secret-named keys of the file."""
    names = [str(n) for n in env.raw.get("secrets", []) or []] if isinstance(env.raw.get("secrets"), list) else []
    values: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if (path == "" and key in NAME_SECTIONS) or str(key).endswith("_variable"):
                    continue  # these hold variable names, not values
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif isinstance(node, str) and looks_secret(path.rsplit(".", 1)[-1]):
            values.append(node)

    walk({k: v for k, v in (resolved or {}).items() if k != "top"}, "")
    return SecretSet.collect(variables, extra_names=names, extra_values=values)


def _start_sandbox_if_needed(
    config: pytest.Config, env: Environment, needed: Sequence[str], environ: Mapping[str, str]
) -> dict[str, str]:
    if not env.has("sandbox"):
        return {}
    sandbox = sections.parser_of("sandbox")(env.get("sandbox"), env.source)
    if sandbox.start == "never":
        return {}
    wants = any(env.mentions(section, "SANDBOX_") for section in needed)
    if sandbox.start == "auto" and (not wants or environ.get("SANDBOX_BASE_URL")):
        return {}
    from pytest_wimmelgate.sandbox.launcher.gate_run import start_for_run

    return start_for_run(config, env, tuple(needed))


def _context(
    config: pytest.Config,
    opts: RunOptions,
    settings: sections.RunSettings,
    secrets: SecretSet,
    environ: Mapping[str, str],
    gates: list[str],
) -> runmod.RunContext:
    started = runmod.utc_now()
    version, version_source = opts.version, opts.version_source
    if not version:
        version, version_source = runmod.ci_version(environ), "CI"
    if not version:
        version, version_source = _reported_version(settings, secrets), runmod.REPORTED_BY_BACKEND
    if not version:
        version, version_source = "unversioned", "fallback"
    commit, commit_source = opts.commit, opts.commit_source
    if not commit:
        commit, commit_source = runmod.ci_commit(environ), "CI"
    if not commit:
        commit, commit_source = runmod.git_commit(str(config.rootpath)), "git rev-parse HEAD"
    if not commit:
        commit, commit_source = "unknown", "fallback"
    now = runmod.parse_instant(opts.now_text, opts.now_source) if opts.now_text else started
    return runmod.RunContext(
        run_id=runmod.new_run_id(),
        version=str(version),
        version_source=version_source,
        commit=str(commit),
        commit_source=commit_source,
        tester=runmod.tester(opts.tester, environ),
        started_at=runmod.iso(started),
        now=runmod.iso(now),
        approvals=opts.approvals,
        allow_destructive=opts.allow_destructive,
        gates=tuple(gates),
        watch=opts.watch,
        watch_interval=opts.watch_interval,
        selection=Selection.of(config).to_json(),
    )


def _reported_version(settings: sections.RunSettings, secrets: SecretSet) -> str | None:
    """The version the backend reports through its contract, when it answers within 2 s."""
    if not settings.has("backend"):
        return None
    from pytest_wimmelgate.contract.health import reported_version

    return reported_version(settings.get("backend"), secrets, run_id="wg-start", timeout_s=2.0)


def _attach_allure(config: pytest.Config, results_dir: Path, secrets: SecretSet, shape: ResultShape) -> None:
    """Register allure-pytest's listener with a redacting file logger in its place."""
    from pytest_wimmelgate.core.allure_seam import attach_listener

    config.add_cleanup(attach_listener(config, results_dir, secrets, shape))
