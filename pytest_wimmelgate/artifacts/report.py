"""The run folder's full Allure report: a single file ``report/allure.html`` with trend history.

``report/index.html`` is the decision page (`decision_page`), which links to this report. Order of use
(controller only): `require_cli` at configure time (``--wg-report required`` without a runnable CLI is a
configuration error), then `generate_report` after the Allure extras are written.

Both major versions are supported, each with its own options (`allure_cli.identify` tells them apart):

- Allure 3 (the pinned default): ``allure generate --config <allurerc.json> allure-results`` with the awesome
  plugin's ``singleFile`` and ``historyPath = <run>/history/history.jsonl``. The history file is seeded from the
  newest earlier run of the same gates and environment, so Allure appends this run to the trend.
- Allure 2: ``allure generate --single-file --clean``; ``allure-results/history/`` is seeded from the earlier
  run, and this report's history (embedded in the single file) is kept in ``<run>/history/`` for the next run.

Reports are generated into a scratch folder and moved into place, so the decision page next to them stays.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_wimmelgate.artifacts.allure_cli import (
    ENV_VAR,
    INSTALL_COMMAND,
    PINNED_VERSION,
    AllureCli,
    find_command,
    identify,
    missing_reason,
)
from pytest_wimmelgate.errors import ConfigError

__all__ = ["ENV_VAR", "ReportResult", "find_allure_cli", "generate_report", "require_cli"]

MODES = ("auto", "off", "required")
HISTORY = "history"
RESULTS = "allure-results"
REPORT = "report"
ALLURE_PAGE = "allure.html"
ALLURE3_HISTORY = "history.jsonl"
REPORT_NAME = "Wimmelgate release gate"
INSTALL_HINT = f"{INSTALL_COMMAND} (pins allure@{PINNED_VERSION})"
RUN_NAME = re.compile(r"^(?P<label>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<attempt>\d+))?$")
EMBEDDED = re.compile(r"d\('history/([\w.-]+\.json)','([A-Za-z0-9+/=]*)'\)")

Mode = Literal["auto", "off", "required"]
Status = Literal["ok", "skipped", "failed"]

find_allure_cli = find_command


@dataclass(frozen=True)
class ReportResult:
    """What report generation did, with a one-line note for the terminal and the decision page."""

    status: Status
    note: str
    path: Path | None = None
    history_from: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def require_cli(mode: str, configured: str | None = None, *, root: Path | None = None) -> list[str] | None:
    """The CLI for `mode`; ``required`` without a runnable one raises `ConfigError` (exit 4)."""
    if mode not in MODES:
        raise ConfigError("--wg-report", "", f"one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return None
    cli = find_command(configured, root=root)
    if cli is None and mode == "required":
        raise missing_cli_error(configured, root=root)
    if cli is not None and mode == "required":
        found = identify(cli)
        if isinstance(found, str):
            raise ConfigError("--wg-report", "", f"a runnable Allure CLI for --wg-report=required ({found})")
    return cli


def missing_cli_error(configured: str | None = None, *, root: Path | None = None) -> ConfigError:
    """The one-line error of ``--wg-report required`` without an Allure CLI."""
    return ConfigError(
        "--wg-report",
        "",
        f"an Allure CLI on PATH or {ENV_VAR} for --wg-report=required ({missing_reason(configured, root=root)})",
    )


def generate_report(
    run_dir: Path,
    *,
    mode: Mode | str = "auto",
    cli: list[str] | None,
    timeout_s: float = 180,
    history: bool = True,
    root: Path | None = None,
) -> ReportResult:
    """Write ``<run_dir>/report/allure.html``; a missing or failing CLI gives a note, never raises
    (except ``required`` without a CLI, which `require_cli` already refuses at start)."""
    if mode == "off":
        return ReportResult("skipped", "full Allure report: off (--wg-report off)")
    if cli is None:
        if mode == "required":
            raise missing_cli_error(root=root)
        return ReportResult("skipped", f"full Allure report not generated: {missing_reason(root=root)}")
    results = run_dir / RESULTS
    if not results.is_dir():
        return ReportResult("failed", f"full Allure report failed: no {results}")
    found = identify(cli, timeout_s=min(timeout_s, 60))
    if isinstance(found, str):
        return ReportResult("failed", f"full Allure report not generated: {found}")
    target = run_dir / REPORT / ALLURE_PAGE
    notes: list[str] = []
    if found.major >= 3:
        seeded = _guarded(lambda: seed_allure3_history(run_dir), "history not carried", notes) if history else None
        failure = _generate_allure3(found, run_dir, target, timeout_s, history=history)
    else:
        seeded = _guarded(lambda: carry_history(run_dir), "history not carried", notes) if history else None
        failure = _generate_allure2(found, results, target, timeout_s)
        if failure is None and history:
            _guarded(
                lambda: keep_history(run_dir, cli=list(found.command), timeout_s=timeout_s), "history not kept", notes
            )
    if failure is not None:
        return ReportResult("failed", f"full Allure report failed: {failure}", history_from=seeded)
    if seeded is not None:
        notes.insert(0, f"trend continued from {_relative_run(seeded.parent, run_dir)}")
    extra = "".join(f"; {note}" for note in notes)
    return ReportResult(
        "ok", f"full Allure report {target} (Allure {found.version}){extra}", path=target, history_from=seeded
    )


def _guarded(step: Callable[[], Path | None], what: str, notes: list[str]) -> Path | None:
    """Run a history step; a file system error becomes a note, not a crash."""
    try:
        return step()
    except OSError as error:
        notes.append(f"{what}: {error.strerror or error}")
        return None


def _relative_run(folder: Path, run_dir: Path) -> str:
    try:
        return folder.relative_to(run_dir.parents[2]).as_posix()
    except (ValueError, IndexError):
        return str(folder)


# -- Allure 3 ------------------------------------------------------------------------------------------------------


def seed_allure3_history(run_dir: Path) -> Path | None:
    """Make ``<run>/history/history.jsonl`` a copy of the earlier run's (or absent); that run's history folder.

    Seeding afresh each time keeps ``wimmelgate report`` repeatable: Allure 3 appends this run once.
    """
    target = run_dir / HISTORY / ALLURE3_HISTORY
    source = previous_history(run_dir, ALLURE3_HISTORY)
    if target.exists():
        target.unlink()
    if source is None:
        return None
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source / ALLURE3_HISTORY, target)
    return source


def allure3_config(output: Path, history_file: Path | None, name: str) -> dict[str, object]:
    """The ``allurerc.json`` of one report: awesome plugin, one self-contained file, grouped by gate and area."""
    config: dict[str, object] = {
        "name": name,
        "output": str(output),
        "plugins": {
            "awesome": {
                "options": {
                    "singleFile": True,
                    "reportName": name,
                    "reportLanguage": "en",
                    "groupBy": ["epic", "feature"],
                }
            }
        },
    }
    if history_file is not None:
        config["historyPath"] = str(history_file)
    return config


def _generate_allure3(cli: AllureCli, run_dir: Path, target: Path, timeout_s: float, *, history: bool) -> str | None:
    with tempfile.TemporaryDirectory(prefix="wg-allure3-") as scratch:
        output = Path(scratch) / "out"
        config = Path(scratch) / "allurerc.json"
        history_file = run_dir / HISTORY / ALLURE3_HISTORY if history else None
        if history_file is not None:
            history_file.parent.mkdir(exist_ok=True)
        config.write_text(json.dumps(allure3_config(output, history_file, _report_name(run_dir))), encoding="utf-8")
        command = [*cli.command, "generate", "--config", str(config), str(run_dir / RESULTS)]
        failure = _run(command, cli, timeout_s, cwd=Path(scratch))
        if failure is not None:
            return failure
        return _move_single_file(output / "index.html", target)


# -- Allure 2 ------------------------------------------------------------------------------------------------------


def _generate_allure2(cli: AllureCli, results: Path, target: Path, timeout_s: float) -> str | None:
    with tempfile.TemporaryDirectory(prefix="wg-allure2-") as scratch:
        output = Path(scratch) / "out"
        command = [*cli.command, "generate", str(results), "-o", str(output), "--single-file", "--clean"]
        failure = _run(command, cli, timeout_s, cwd=None)
        if failure is not None:
            return failure
        return _move_single_file(output / "index.html", target)


def carry_history(run_dir: Path) -> Path | None:
    """Copy the previous run's ``history/`` into ``allure-results/history/`` (Allure 2); its source or None.

    The previous run is the newest earlier run folder with the same gate label under
    ``<release-dir>/*/<env>/`` (any version) that kept a history. Existing history in
    ``allure-results/history/`` is left alone.
    """
    target = run_dir / RESULTS / HISTORY
    if target.exists():
        return None
    source = previous_history(run_dir)
    if source is None:
        return None
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(ALLURE3_HISTORY))
    return source


def keep_history(run_dir: Path, *, cli: list[str] | None = None, timeout_s: float = 180) -> Path | None:
    """Store this Allure 2 report's history in ``<run_dir>/history/`` for the next run.

    Read from the single-file ``allure.html``; if that format is not recognised, generate
    once more without ``--single-file`` into a temporary folder and take its ``history/``.
    """
    target = run_dir / HISTORY
    files = embedded_history(run_dir / REPORT / ALLURE_PAGE)
    if not files and cli is not None:
        files = _history_by_folder_report(run_dir / RESULTS, cli, timeout_s)
    if not files:
        return None
    target.mkdir(exist_ok=True)
    for name, data in files.items():
        (target / name).write_bytes(data)
    return target


def embedded_history(index: Path) -> dict[str, bytes]:
    """The ``history/*.json`` files a single-file Allure 2 report embeds (base64)."""
    if not index.is_file():
        return {}
    files: dict[str, bytes] = {}
    for name, encoded in EMBEDDED.findall(index.read_text(encoding="utf-8", errors="replace")):
        try:
            files[name] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return {}
    return files


def _history_by_folder_report(results: Path, cli: list[str], timeout_s: float) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="wg-allure-") as scratch:
        report = Path(scratch) / REPORT
        command = [*cli, "generate", str(results), "-o", str(report), "--clean"]
        if _run(command, AllureCli(tuple(cli), "2.0.0"), timeout_s, cwd=None) is not None:
            return {}
        return {p.name: p.read_bytes() for p in sorted((report / HISTORY).glob("*.json"))}


# -- shared --------------------------------------------------------------------------------------------------------


def previous_history(run_dir: Path, pattern: str = "*.json") -> Path | None:
    """``history/`` of the newest earlier run of the same gates and environment holding `pattern`, if any."""
    key = _run_key(run_dir.name)
    if key is None:
        return None
    label, _, _ = key
    environment, release_root = run_dir.parent.name, run_dir.parent.parent.parent
    earlier: list[tuple[tuple[str, str, int], Path]] = []
    for candidate in release_root.glob(f"*/{environment}/*/{HISTORY}"):
        other = _run_key(candidate.parent.name)
        if (
            other
            and other[0] == label
            and other < key
            and candidate.parent != run_dir
            and candidate.is_dir()
            and any(candidate.glob(pattern))
        ):
            earlier.append((other, candidate))
    return max(earlier, key=lambda pair: pair[0])[1] if earlier else None


def _run(command: list[str], cli: AllureCli, timeout_s: float, *, cwd: Path | None) -> str | None:
    """Run one ``allure generate``; None on success, else a one-line reason."""
    shown = shlex.join(cli.command)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        return f"`{shown} generate` timed out after {timeout_s:g} s"
    except OSError as error:
        return f"`{shown}` could not start: {error.strerror or error}"
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        detail = lines[-1] if lines else "no output"
        return f"`{shown} generate` exited {done.returncode}: {detail[:300]}"
    return None


def _move_single_file(produced: Path, target: Path) -> str | None:
    if not produced.is_file():
        return f"no {produced.name} after `allure generate`"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), str(target))
    return None


def _report_name(run_dir: Path) -> str:
    """``Wimmelgate release gate · staging_gate · sandbox · 1.4.2`` from the run's summary, when there is one."""
    try:
        summary = json.loads((run_dir / "gate-summary.json").read_text(encoding="utf-8"))
        parts = [", ".join(summary["gates"]), str(summary["environment"]), str(summary["version"])]
    except (OSError, ValueError, KeyError, TypeError):
        return REPORT_NAME
    return " · ".join([REPORT_NAME, *parts])


def _run_key(name: str) -> tuple[str, str, int] | None:
    match = RUN_NAME.match(name)
    if match is None:
        return None
    return match["label"], match["stamp"], int(match["attempt"] or 1)
