"""The gate session: the stateful plugin object of a gate run.

Registered by `plugin.pytest_configure` when a run is a gate run. On the controller (or
a run without xdist) it owns the run folder, the verdict and the artifacts; on xdist
workers it only enriches reports, which the controller aggregates.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts import interrupted as interrupted_outputs
from pytest_wimmelgate.artifacts import release_folder
from pytest_wimmelgate.artifacts.allure_results import ResultShape, shared_titles, test_keys
from pytest_wimmelgate.artifacts.bundle import RunOutcome, write_bundle
from pytest_wimmelgate.artifacts.leak_scan import with_findings
from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.catalogue.marks import check_meta, decorate
from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import RunSettings
from pytest_wimmelgate.core import completeness, outcomes
from pytest_wimmelgate.core.evidence import Evidence, attach_failure_evidence
from pytest_wimmelgate.core.locks import LockWait, TargetLock
from pytest_wimmelgate.core.redaction import OutputRedaction
from pytest_wimmelgate.core.run import RunContext
from pytest_wimmelgate.core.signals import InterruptSignals
from pytest_wimmelgate.core.terminal import verdict_lines
from pytest_wimmelgate.core.verdict import CheckRecord, Verdict, apply_waivers, decide

PROPERTY = "wimmelgate"
WORKER_KEY = "wimmelgate"
EXIT_GO, EXIT_NO_GO, EXIT_INTERRUPTED, EXIT_USAGE = 0, 1, 2, 4


@dataclass
class _Phases:
    """What the controller learned about one test from its phase reports."""

    meta: dict[str, Any] = field(default_factory=dict)
    #: "pending" until the call phase reports: a test whose call never reported was interrupted
    outcome: str = "pending"
    reason: str | None = None
    category: str | None = None
    duration_s: float = 0.0


class GateSession:
    """Hooks of a gate run; one instance per process, named ``wimmelgate-session``."""

    def __init__(
        self,
        config: pytest.Config,
        *,
        env: Environment,
        settings: RunSettings,
        secrets: SecretSet,
        context: RunContext,
        sandbox_variables: dict[str, str],
        worker: bool,
    ) -> None:
        self.config = config
        self.env = env
        self.settings = settings
        self.rules = settings.rules
        self.secrets = secrets
        self.context = context
        self.sandbox_variables = sandbox_variables
        self.target_variables: dict[str, str] = {}
        self.worker = worker
        self.run_dir = Path(context.run_dir)
        self._tests: dict[str, _Phases] = {}
        self._order: list[str] = []
        self.verdict: Verdict | None = None
        self.records: list[CheckRecord] = []
        self.exit_status: int | None = None
        self.report_note: str | None = None
        self.created_dirs: tuple[Path, ...] = ()
        self.run_warnings: list[str] = []
        self.run_notes: list[str] = []
        self.report_mode = "auto"
        self.allure_cli: list[str] | None = None
        self.result_shape: ResultShape | None = None  # the redacting Allure logger's; shared titles added later
        self.lock = TargetLock.for_run(
            base_url=self._base_url(), faults=self._faults_settings(), sandbox_info=self._sandbox_info()
        )
        config.add_cleanup(self.lock.close)
        self.tracker = completeness.SelectionTracker(completeness.Selection.of(config), worker=worker)
        config.pluginmanager.register(self.tracker, "wimmelgate-selection")
        config.add_cleanup(lambda: config.pluginmanager.unregister(self.tracker))
        self.signals = InterruptSignals()  # SIGTERM/SIGHUP/SIGINT: lift faults, write the summary, exit 2
        config.pluginmanager.register(self.signals, "wimmelgate-signals")
        self.signals.install()
        OutputRedaction.install(config, secrets)  # ids, logs, terminal and -s output (issue 16)

    # -- xdist -----------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_KEY] = json.dumps(self.worker_data())

    def worker_data(self) -> dict[str, Any]:
        """What an xdist worker needs to rebuild this state without reading a file (JSON-safe)."""
        env = self.env
        return {
            "context": self.context.to_dict(),
            "sandbox_variables": self.sandbox_variables,
            "environment": {"name": env.name, "source": env.source, "origin": env.origin, "raw": _plain(env.raw)},
            "settings": _plain(self.settings.resolved),
            "absent": dict(self.settings.absent),
            "secrets": self.secrets.to_data(),
            "target_variables": dict(self.target_variables),
        }

    # -- collection --------------------------------------------------------------
    @pytest.hookimpl
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        """Never walk the release folder: earlier runs' files would slow every collection (and hold no test)."""
        return True if release_folder.pruned(collection_path, self.run_dir, config.rootpath, config.args) else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_itemcollected(self, item: pytest.Item) -> None:
        decorate(item, runbook_url=self.rules.runbook_url)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Titles several selected tests share get their test's name as results are written."""
        if self.result_shape is not None:
            self.result_shape.shared = shared_titles(test_keys(session.items))

    @pytest.hookimpl
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"wimmelgate: environment {self.rules.name} from {self.env.source} ({self.env.origin}); "
            f"protected={self.rules.protected}",
            f"wimmelgate: version {self.context.version} ({self.context.version_source}), "
            f"commit {self.context.commit} ({self.context.commit_source}), tester {self.context.tester}",
            f"wimmelgate: run folder {self.run_dir}",
        ]

    # -- running -----------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        exclusive = item.get_closest_marker(catalogue.DESTRUCTIVE_MARKER) is not None
        with self.lock.hold(exclusive=exclusive) as waited:
            item.stash[LOCK_WAIT_KEY] = waited
            return (yield)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        waited = item.stash.get(LOCK_WAIT_KEY, None)
        if waited is not None:
            waited.settle(Evidence(self.secrets))
        if (
            item.get_closest_marker(catalogue.DESTRUCTIVE_MARKER)
            and self.rules.protected
            and not self.context.allow_destructive
        ):
            pytest.skip(
                f"{outcomes.SAFETY_PREFIX} destructive check not run on protected environment "
                f"{self.rules.name} (pass --wg-allow-destructive to allow it)"
            )

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        if outcomes.is_not_configured(call.excinfo):
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")  # type: ignore[union-attr]
        category, reason = outcomes.classify(call.excinfo) if report.failed else (None, None)
        if report.failed and category and isinstance(call.excinfo.value, Exception):  # type: ignore[union-attr]
            attach_failure_evidence(call.excinfo.value, self.secrets)  # type: ignore[union-attr]
        if report.skipped:
            reason = outcomes.skip_reason(report)
        meta = item.stash.get(META_KEY, None)
        if meta is None:
            meta = item.stash[META_KEY] = check_meta(item)
            item.stash[META_JSON_KEY] = json.dumps(meta)  # the same text for every phase: dumped once per test
        text = item.stash[META_JSON_KEY]
        if reason:
            text = json.dumps({**meta, "category": category, "reason": self.secrets.redact(reason)})
        report.user_properties.append((PROPERTY, text))
        return report  # redacted by OutputRedaction's wrapper around this one (tryfirst)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker:
            return
        text = next((str(v) for k, v in report.user_properties if k == PROPERTY), None)
        if text is None:
            return
        phases = self._tests.get(report.nodeid)
        if phases is None:
            phases = self._tests[report.nodeid] = _Phases(meta=json.loads(text))
            self._order.append(report.nodeid)
        phases.duration_s += report.duration
        meta = json.loads(text) if report.failed or report.skipped else phases.meta  # only these carry a reason
        if report.failed and phases.outcome != "failed":
            phases.outcome, phases.reason, phases.category = "failed", meta.get("reason"), meta.get("category")
        elif report.skipped and phases.outcome in ("pending", "passed"):
            phases.outcome, phases.reason = "skipped", meta.get("reason")
        elif report.passed and report.when == "call" and phases.outcome == "pending":
            phases.outcome = "passed"

    # -- verdict and artifacts ---------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker:
            return
        if int(exitstatus) == EXIT_USAGE:
            release_folder.discard(self.run_dir, self.created_dirs, self._scratch_junit())
            return
        release_folder.take_junit(self._scratch_junit(), self.run_dir, self.secrets)
        self.records = self._records()
        gates = self._gates()
        interrupted = int(exitstatus) in (EXIT_INTERRUPTED, 3)
        note = (self.signals.reason or "run interrupted before all checks ran") if interrupted else ""
        missing = completeness.not_run(
            gates=gates,
            ran=[r.id for r in self.records if r.id],
            tracker=self.tracker,
            stopped_early=bool(session.shouldfail) or self.tracker.selection.maxfail > 0,
            interrupted=interrupted,
            protected=self.rules.protected,
            allow_destructive=self.context.allow_destructive,
            waivers=self.rules.active_waivers(self.context.clock.date()),
        )
        hook = self.config.hook
        self.run_warnings = [w for ws in hook.pytest_wimmelgate_run_warnings(config=self.config) for w in ws]
        self.run_notes = [n for ns in hook.pytest_wimmelgate_run_notes(config=self.config) for n in ns]
        self.verdict = decide(
            self.records,
            no_selection_reason=note or f"no check selected by -m {self.config.option.markexpr!r}",
            not_run=missing,
            run_warnings=self.run_warnings,
            interrupted=note,
        )
        stopped = [r for r in self.records if r.outcome == "interrupted"]
        interrupted_outputs.mark_junit(self.run_dir / "junit.xml", stopped)
        interrupted_outputs.mark_allure(self.run_dir / "allure-results", stopped)
        if int(exitstatus) in (EXIT_USAGE, EXIT_INTERRUPTED, 3):
            self.exit_status = int(exitstatus)
        else:
            self.exit_status = EXIT_GO if self.verdict.go else EXIT_NO_GO
        self._write_artifacts(gates)
        session.exitstatus = self.exit_status

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker or self.verdict is None:
            return
        terminalreporter.write_sep("=", "wimmelgate verdict")
        for text, markup in verdict_lines(
            gates=self._gates(),
            environment=self.rules.name,
            environment_source=f"{self.env.source}, {self.env.origin}",
            version=self.context.version,
            commit=self.context.commit,
            verdict=self.verdict,
            run_dir=str(self.run_dir),
            waivers=self.verdict.waivers,
        ):
            terminalreporter.line(self.secrets.redact(text), **markup)
        if self.report_note:
            terminalreporter.line(self.report_note)

    # -- helpers -----------------------------------------------------------------
    def _gates(self) -> list[str]:
        if self.context.gates:
            return list(self.context.gates)
        touched = [g for r in self.records for g in r.gates]
        for check_id in self.tracker.deselected:
            check = catalogue.check_by_id(check_id)
            touched.extend(check.gates if check else ())
        return completeness.gates_of_run("", touched)

    def _records(self) -> list[CheckRecord]:
        waivers = self.rules.active_waivers(self.context.clock.date())
        records = []
        for nodeid in sorted(self._order, key=_check_order(self._tests)):
            phases = self._tests[nodeid]
            meta = phases.meta
            gates = tuple(meta.get("gates") or ())
            reason = phases.reason
            safety = bool(reason and reason.startswith(outcomes.SAFETY_PREFIX))
            if safety and reason:
                reason = reason[len(outcomes.SAFETY_PREFIX) :].strip()
            outcome = phases.outcome
            if outcome == "pending":
                outcome, reason = "interrupted", "interrupted: the check did not finish"
            records.append(
                CheckRecord(
                    id=meta.get("id"),
                    nodeid=nodeid,
                    gates=gates,
                    outcome=outcome,
                    severity=meta.get("severity") or "critical",
                    required=True,
                    reason=reason,
                    category=phases.category,
                    duration_s=phases.duration_s,
                    safety_skip=safety,
                )
            )
        return apply_waivers(records, waivers)

    def _faults_settings(self) -> dict[str, Any]:
        faults = self.settings.resolved.get("faults")
        return dict(faults) if isinstance(faults, dict) else {}

    def _sandbox_info(self) -> dict[str, Any] | None:
        import os

        raw = self.sandbox_variables.get("SANDBOX_INFO") or os.environ.get("SANDBOX_INFO")
        return dict(json.loads(raw)) if raw else None

    def _base_url(self) -> str:
        backend = self.settings.resolved.get("backend")
        return str(backend.get("base_url", "")) if isinstance(backend, dict) else "(not read in this run)"

    def _scratch_junit(self) -> Path:
        return Path(str(self.config.option.xmlpath or self.run_dir / "junit.xml"))

    def _write_artifacts(self, gates: list[str]) -> None:
        assert self.verdict is not None
        written = write_bundle(
            RunOutcome(
                run_dir=self.run_dir,
                gates=gates,
                environment=self.rules.name,
                environment_source=self.env.source,
                context=self.context,
                verdict=self.verdict,
                records=self.records,
                exit_status=self.exit_status or 0,
                base_url=self._base_url(),
                runbook_url=self.rules.runbook_url,
                secrets=self.secrets,
                report_mode=self.report_mode,
                allure_cli=self.allure_cli,
                user_allure_dir=self.config.stash.get(USER_ALLURE_DIR, None),
                notes=tuple(self.run_notes),
                waivers=self.rules.waivers,
                rootdir=self.config.rootpath,
            )
        )
        user_junit = self.config.stash.get(USER_JUNIT, None)
        junit = self.run_dir / "junit.xml"
        if user_junit and junit.is_file():
            Path(user_junit).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(junit, user_junit)
        self.report_note = written.report_note
        self.verdict = with_findings(self.verdict, written.leak_scan)  # a leak found in the run folder is NO-GO
        if self.exit_status == EXIT_GO and not self.verdict.go:
            self.exit_status = EXIT_NO_GO
        if self.report_mode == "required" and not written.report_ok and self.exit_status == EXIT_GO:
            self.exit_status = EXIT_NO_GO


def _plain(node: Any) -> Any:
    """A JSON-safe copy (resolved texts become plain strings)."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if node is None or isinstance(node, (bool, int, float)):
        return node
    return str(node)


USER_ALLURE_DIR = pytest.StashKey[str]()
USER_JUNIT = pytest.StashKey[str]()
META_KEY = pytest.StashKey[dict[str, Any]]()
META_JSON_KEY = pytest.StashKey[str]()
LOCK_WAIT_KEY = pytest.StashKey[LockWait]()


def _check_order(tests: dict[str, _Phases]) -> Any:
    """Sort key: catalogue order of check ids, then node id (same with and without xdist)."""
    order = {c.id: i for i, c in enumerate(catalogue.active().checks)}

    def key(nodeid: str) -> tuple[int, str]:
        return order.get(tests[nodeid].meta.get("id") or "", len(order)), nodeid

    return key
