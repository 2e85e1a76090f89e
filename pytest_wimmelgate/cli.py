"""The ``wimmelgate`` command: catalogue coverage, a new gate project, report and manifest tools, the sandbox.

Exit status: 0 ok, 1 a finding (a check without a test, a failed report, a changed file),
4 usage or configuration error with one line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FINDING, EXIT_USAGE = 0, 1, 4
SANDBOX_MODULE = "pytest_wimmelgate.sandbox.launcher.foreground"


class _Parser(argparse.ArgumentParser):
    """argparse with the project's usage exit status (4) instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wimmelgate", description="Release gates for the Wimmelwelt backend (pytest-wimmelgate).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    catalogue = commands.add_parser(
        "catalogue",
        help="list every check id with its gates, runbook section and tests; exit 1 when a check has no test",
        description="Collect the suites (no test runs) and map every catalogue check id to the tests implementing it.",
    )
    catalogue.add_argument(
        "--suites",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the gate suites (default: suites/ when it exists, else the project's testpaths)",
    )
    catalogue.add_argument(
        "--catalogue",
        type=Path,
        default=None,
        metavar="FILE",
        help="the project's catalogue file (default: as for pytest: --wg-catalogue, WIMMELGATE_CATALOGUE, "
        "ini wg_catalogue, wimmelgate-catalogue.yaml)",
    )
    catalogue.add_argument("--json", action="store_true", help="print JSON (schema wimmelgate/catalogue/v1)")
    init = commands.add_parser(
        "init",
        help="start a gate project in DIR: pytest.ini, environments, a catalogue file with a team check, its test",
        description="Write a gate project into DIR (created when missing): it runs the installed gate suites plus "
        "its own checks; `pytest -m staging_gate` in DIR then runs against the sandbox. Refuses a folder that "
        "is not empty unless --force.",
    )
    init.add_argument("directory", type=Path, metavar="DIR")
    init.add_argument("--force", action="store_true", help="write into a non-empty folder (same-named files replaced)")
    report = commands.add_parser(
        "report",
        help="make the report folder of a run folder again (decision page, full Allure report) and its manifest",
        description=(
            "Rebuild RUN_DIR/report/ (the decision page index.html, the single-file Allure report allure.html with "
            "trend history, the rendered runbook) and rewrite MANIFEST.sha256. Refuses when other files of the run "
            "folder changed since the manifest."
        ),
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    report.add_argument(
        "--allure",
        default=None,
        metavar="COMMAND",
        help="Allure command (default: $WIMMELGATE_ALLURE, node_modules/.bin/allure, PATH)",
    )
    report.add_argument("--timeout", type=float, default=180.0, metavar="SECONDS")
    report.add_argument(
        "--catalogue",
        type=Path,
        default=None,
        metavar="FILE",
        help="the project's catalogue file, for its checks' titles and runbook links "
        "(default: WIMMELGATE_CATALOGUE, else wimmelgate-catalogue.yaml here)",
    )
    manifest = commands.add_parser(
        "manifest",
        help="write or check MANIFEST.sha256 of a run folder",
        description="Write MANIFEST.sha256 over every file of RUN_DIR, or check it with --check.",
    )
    manifest.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    manifest.add_argument("--check", action="store_true", help="verify instead of writing")
    sweep_cmd = commands.add_parser(
        "sweep",
        help="delete records earlier gate runs left on a backend, by run tag or by age",
        description="Log in with the environment's smoke account and delete, through the backend contract, the "
        "records of one gate run (--tag wg-...) or of every gate run older than a duration (--older-than 7d).",
    )
    sweep_cmd.add_argument("--env", required=True, metavar="ENV", help="environment name or file, as for --wg-env")
    which = sweep_cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--tag", metavar="TAG", help="the run id whose records to delete (wg-...)")
    which.add_argument("--older-than", metavar="DURATION", help="delete records of gate runs older than this (7d)")
    commands.add_parser(
        "sandbox",
        add_help=False,
        help="run the reference backend in the foreground until Ctrl-C (see `wimmelgate sandbox --help`)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["sandbox"]:
        return sandbox(args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command == "catalogue":
        return catalogue(args.suites, as_json=args.json, catalogue_file=args.catalogue)
    if args.command == "init":
        return init_project(args.directory, force=args.force)
    if args.command == "report":
        return report(args.run_dir, allure=args.allure, timeout_s=args.timeout, catalogue_file=args.catalogue)
    if args.command == "sweep":
        from pytest_wimmelgate.contract.sweep_command import run_sweep

        return run_sweep(args.env, tag=args.tag, older_than=args.older_than)
    return manifest(args.run_dir, check=args.check)


def catalogue(suites: Path | None, *, as_json: bool = False, catalogue_file: Path | None = None) -> int:
    """Print the catalogue coverage of `suites` (built-in and project checks); 1 when a check lacks a test or an
    id is unknown."""
    from pytest_wimmelgate.catalogue import checks, coverage

    if suites is not None and not suites.is_dir():
        return _usage(f"--suites {suites}: not a folder")
    if suites is None and Path("suites").is_dir():
        suites = Path("suites")
    extra = [f"--wg-catalogue={catalogue_file}"] if catalogue_file else []
    try:
        collected = coverage.collect([suites] if suites else [], extra_args=extra)
    except coverage.CollectionError as error:
        print(error, file=sys.stderr)
        return _usage(f"{f'--suites {suites}' if suites else 'testpaths'}: collection failed")
    deactivate = checks.activate(collected.catalogue)  # runbook links use the project's headings too
    try:
        result = coverage.build_coverage(collected.found)
        if as_json:
            print(json.dumps(coverage.coverage_json(result), indent=2, ensure_ascii=False))
        else:
            sys.stdout.write(coverage.coverage_text(result))
    finally:
        deactivate()
    return EXIT_OK if result.complete else EXIT_FINDING


def init_project(directory: Path, *, force: bool = False) -> int:
    """Write a gate project into ``directory`` (see `pytest_wimmelgate.init`)."""
    from pytest_wimmelgate.errors import ConfigError
    from pytest_wimmelgate.init import create

    try:
        written = create(directory, force=force)
    except ConfigError as error:
        return _usage(f"init {error}")
    for path in written:
        print(f"wrote {path}")
    print(
        f"next: cd {directory} && pip install 'pytest-wimmelgate[sandbox]' && pytest -m staging_gate "
        "(the staging gate, TEAM-1 included, against the sandbox)"
    )
    return EXIT_OK


def report(
    run_dir: Path, *, allure: str | None = None, timeout_s: float = 180.0, catalogue_file: Path | None = None
) -> int:
    """Make the report folder of an existing run folder again (e.g. after installing Allure) and rewrite its
    manifest; exit 1 when the report failed or files outside ``report/`` changed since the manifest."""
    import os

    from pytest_wimmelgate.artifacts import report as reportmod
    from pytest_wimmelgate.artifacts.allure_cli import find_command, missing_reason
    from pytest_wimmelgate.artifacts.bundle import rebuild_report, report_line
    from pytest_wimmelgate.catalogue import checks, project
    from pytest_wimmelgate.errors import ConfigError

    if not (run_dir / reportmod.RESULTS).is_dir() or not (run_dir / "gate-summary.json").is_file():
        return _usage(f"{run_dir}: not a run folder (no {reportmod.RESULTS}/ and gate-summary.json)")
    try:
        found = project.for_command(catalogue_file, cwd=Path.cwd(), environ=os.environ)
    except ConfigError as error:
        return _usage(str(error))
    cli = find_command(allure)
    if cli is None:
        return _usage(f"no Allure for the full report: {missing_reason(allure)}")
    deactivate = checks.activate(found)  # the decision page names the project's checks too
    try:
        result, problems = rebuild_report(run_dir, cli=cli, timeout_s=timeout_s)
    finally:
        deactivate()
    if result is None:
        for problem in problems:
            print(problem)
        print(f"wimmelgate report: {run_dir} changed since its MANIFEST.sha256; nothing rewritten")
        return EXIT_FINDING
    print(f"report: {report_line(run_dir, result)}")
    print(f"manifest: {run_dir / 'MANIFEST.sha256'} rewritten")
    return EXIT_OK if result.ok else EXIT_FINDING


def manifest(run_dir: Path, *, check: bool = False) -> int:
    """Write ``MANIFEST.sha256``, or with `check` report every difference (exit 1)."""
    from pytest_wimmelgate.artifacts.manifest import verify_manifest, write_manifest

    if not run_dir.is_dir():
        return _usage(f"{run_dir}: not a folder")
    if not check:
        print(write_manifest(run_dir))
        return EXIT_OK
    problems = verify_manifest(run_dir)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{run_dir}: all files match MANIFEST.sha256")
    return EXIT_FINDING if problems else EXIT_OK


def sandbox(argv: list[str]) -> int:
    """Delegate to ``pytest_wimmelgate.sandbox.launcher.foreground.run_foreground`` (the sandbox extra)."""
    try:
        module = importlib.import_module(SANDBOX_MODULE)
    except ModuleNotFoundError as error:
        if error.name and SANDBOX_MODULE.startswith(error.name):
            return _usage("wimmelgate sandbox: not available in this installation")
        return _usage(
            f"wimmelgate sandbox: needs the sandbox extra (missing module {error.name}); "
            "pip install 'pytest-wimmelgate[sandbox]'"
        )
    run_foreground = getattr(module, "run_foreground", None)
    if run_foreground is None:
        return _usage("wimmelgate sandbox: not available in this installation")
    return int(run_foreground(argv) or 0)


def _usage(message: str) -> int:
    print(f"wimmelgate: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
