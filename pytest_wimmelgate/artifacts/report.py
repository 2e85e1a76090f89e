"""The run folder's Allure report: a single-file ``report/index.html`` with trend history.

Order of use (controller only): `require_cli` at configure time (``--wg-report required``
without a CLI is a configuration error), then `generate_report` after the Allure extras
are written. `generate_report` seeds ``allure-results/history/`` from the newest earlier
run of the same gates and environment (across versions), runs
``allure generate --single-file``, and keeps this report's history in ``<run>/history/``
for the next run. A single-file report has no ``history/`` folder; its history files are
embedded in ``index.html`` and read back from there.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pytest_wimmelgate.errors import ConfigError

ENV_VAR = "WIMMELGATE_ALLURE"
MODES = ("auto", "off", "required")
HISTORY = "history"
RESULTS = "allure-results"
REPORT = "report"
INSTALL_HINT = "npm install --prefix .ci/node allure-commandline"
RUN_NAME = re.compile(r"^(?P<label>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<attempt>\d+))?$")
EMBEDDED = re.compile(r"d\('history/([\w.-]+\.json)','([A-Za-z0-9+/=]*)'\)")

Mode = Literal["auto", "off", "required"]
Status = Literal["ok", "skipped", "failed"]


@dataclass(frozen=True)
class ReportResult:
    """What report generation did, with a one-line note for the terminal and the log."""

    status: Status
    note: str
    path: Path | None = None
    history_from: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def find_allure_cli(configured: str | None = None, *, root: Path | None = None) -> list[str] | None:
    """The Allure command: `configured` or ``$WIMMELGATE_ALLURE``, else ``allure`` on PATH, else
    ``.ci/node/node_modules/.bin/allure`` or ``node_modules/.bin/allure`` under `root`, then the cwd.

    A configured command that does not resolve gives ``None`` (no silent fallback).
    """
    configured = configured or os.environ.get(ENV_VAR) or None
    if configured:
        words = shlex.split(configured)
        resolved = _executable(words[0]) if words else None
        return [resolved, *words[1:]] if resolved else None
    on_path = shutil.which("allure")
    if on_path:
        return [on_path]
    for base in _roots(root):
        for relative in (".ci/node/node_modules/.bin/allure", "node_modules/.bin/allure"):
            candidate = base / relative
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return [str(candidate)]
    return None


def require_cli(mode: str, configured: str | None = None, *, root: Path | None = None) -> list[str] | None:
    """The CLI for `mode`; ``required`` without one raises `ConfigError` (exit 4)."""
    if mode not in MODES:
        raise ConfigError("--wg-report", "", f"one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return None
    cli = find_allure_cli(configured, root=root)
    if cli is None and mode == "required":
        raise missing_cli_error(configured)
    return cli


def missing_cli_error(configured: str | None = None) -> ConfigError:
    """The one-line error of ``--wg-report required`` without an Allure CLI."""
    return ConfigError(
        "--wg-report",
        "",
        f"an Allure CLI on PATH or {ENV_VAR} for --wg-report=required "
        f"({_missing_hint(configured)}; install one with `{INSTALL_HINT}`)",
    )


def generate_report(
    run_dir: Path, *, mode: Mode | str = "auto", cli: list[str] | None, timeout_s: float = 180, history: bool = True
) -> ReportResult:
    """Write ``<run_dir>/report/index.html``; a missing or failing CLI gives a note, never raises
    (except ``required`` without a CLI, which `require_cli` already refuses at start)."""
    if mode == "off":
        return ReportResult("skipped", "Allure report: off (--wg-report off)")
    if cli is None:
        if mode == "required":
            raise missing_cli_error()
        return ReportResult(
            "skipped", f"Allure report: not generated, no Allure CLI found ({_missing_hint(None)}; `{INSTALL_HINT}`)"
        )
    results, report = run_dir / RESULTS, run_dir / REPORT
    if not results.is_dir():
        return ReportResult("failed", f"Allure report: failed: no {results}")
    notes: list[str] = []
    seeded = _guarded(lambda: carry_history(run_dir), "history not carried", notes) if history else None
    failure = _run_cli(cli, results, report, timeout_s, single_file=True)
    index = report / "index.html"
    if failure is None and not index.is_file():
        failure = f"no {index} after `allure generate`"
    if failure is not None:
        return ReportResult("failed", f"Allure report: failed: {failure}", history_from=seeded)
    if history:
        _guarded(lambda: keep_history(run_dir, cli=cli, timeout_s=timeout_s), "history not kept", notes)
    if seeded is not None:
        notes.insert(0, f"trend continued from {seeded.parent.relative_to(run_dir.parents[2])}")
    extra = "".join(f"; {note}" for note in notes)
    return ReportResult("ok", f"Allure report: {index}{extra}", path=index, history_from=seeded)


def _guarded(step: Callable[[], Path | None], what: str, notes: list[str]) -> Path | None:
    """Run a history step; a file system error becomes a note, not a crash."""
    try:
        return step()
    except OSError as error:
        notes.append(f"{what}: {error.strerror or error}")
        return None


def carry_history(run_dir: Path) -> Path | None:
    """Copy the previous run's ``history/`` into ``allure-results/history/``; its source or None.

    The previous run is the newest earlier run folder with the same gate label under
    ``<release-dir>/*/<env>/`` (any version), that kept a history. Existing history in
    ``allure-results/history/`` is left alone.
    """
    target = run_dir / RESULTS / HISTORY
    if target.exists():
        return None
    source = previous_history(run_dir)
    if source is None:
        return None
    shutil.copytree(source, target)
    return source


def previous_history(run_dir: Path) -> Path | None:
    """``history/`` of the newest earlier run of the same gates and environment, if any."""
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
            and any(candidate.glob("*.json"))
        ):
            earlier.append((other, candidate))
    return max(earlier, key=lambda pair: pair[0])[1] if earlier else None


def keep_history(run_dir: Path, *, cli: list[str] | None = None, timeout_s: float = 180) -> Path | None:
    """Store this report's history in ``<run_dir>/history/`` for the next run.

    Read from the single-file ``index.html``; if that format is not recognised, generate
    once more without ``--single-file`` into a temporary folder and take its ``history/``.
    """
    target = run_dir / HISTORY
    files = embedded_history(run_dir / REPORT / "index.html")
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
        if _run_cli(cli, results, report, timeout_s, single_file=False) is not None:
            return {}
        return {p.name: p.read_bytes() for p in sorted((report / HISTORY).glob("*.json"))}


def _run_cli(cli: list[str], results: Path, report: Path, timeout_s: float, *, single_file: bool) -> str | None:
    """Run ``allure generate``; None on success, else a one-line reason."""
    command = [*cli, "generate", str(results), "-o", str(report), "--clean"]
    if single_file:
        command.insert(-1, "--single-file")
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return f"`{shlex.join(cli)} generate` timed out after {timeout_s:g} s"
    except OSError as error:
        return f"`{shlex.join(cli)}` could not start: {error.strerror or error}"
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        detail = lines[-1] if lines else "no output"
        return f"`{shlex.join(cli)} generate` exited {done.returncode}: {detail[:300]}"
    return None


def _run_key(name: str) -> tuple[str, str, int] | None:
    match = RUN_NAME.match(name)
    if match is None:
        return None
    return match["label"], match["stamp"], int(match["attempt"] or 1)


def _executable(word: str) -> str | None:
    if os.sep in word:
        path = Path(word).expanduser()
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(word)


def _roots(root: Path | None) -> list[Path]:
    """Where a project-local CLI may live: the project root, then the working directory."""
    unique: list[Path] = []
    for base in (root, Path.cwd()):
        if base is not None and base.resolve() not in unique:
            unique.append(base.resolve())
    return unique


def _missing_hint(configured: str | None) -> str:
    value = configured or os.environ.get(ENV_VAR)
    if value:
        return f"{ENV_VAR}/configured command {value!r} is not an executable"
    return "no `allure` on PATH, none in .ci/node or node_modules"
