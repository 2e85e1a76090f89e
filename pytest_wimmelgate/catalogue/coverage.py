"""Catalogue coverage: which tests implement each check id, and which ids have none.

`collect` collects suites folders with pytest in-process (collection only) and reads
each item's ``check`` marker, together with the catalogue that run used: the built-in one
plus the project's catalogue file (for the CLI; never call it from inside a running pytest
session); `tests_by_check` does the same for items a running session already holds.
`build_coverage` joins that with the catalogue; `coverage_text`, `coverage_json` and
`coverage_markdown` render it (terminal, ``--json``, report attachment).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wimmelgate.catalogue.checks import CHECK_MARKER, RUNBOOK_URL, Catalogue, Check, active, runbook_link

SCHEMA = "wimmelgate/catalogue/v1"
NO_ID = "(no id)"


class CollectionError(Exception):
    """The suites could not be collected; carries pytest's output."""


@dataclass(frozen=True)
class CheckCoverage:
    """One catalogue check and the node ids of the tests implementing it."""

    check: Check
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    """The catalogue against the collected tests."""

    rows: tuple[CheckCoverage, ...]
    unknown: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def missing(self) -> tuple[str, ...]:
        """Check ids without a test."""
        return tuple(row.check.id for row in self.rows if not row.tests)

    @property
    def complete(self) -> bool:
        """Every check has a test and every test names a known check."""
        return not self.missing and not self.unknown


def tests_by_check(items: Iterable[Any]) -> dict[str, list[str]]:
    """Node ids per check id from pytest items (``@pytest.mark.check("ID")``)."""
    found: dict[str, list[str]] = {}
    for item in items:
        marker = item.get_closest_marker(CHECK_MARKER)
        if marker is None:
            continue
        check_id = str(marker.args[0]) if marker.args else NO_ID
        found.setdefault(check_id, []).append(str(item.nodeid))
    return found


@dataclass(frozen=True)
class Collected:
    """Node ids per check id, and the catalogue the collecting run had active."""

    found: dict[str, list[str]]
    catalogue: Catalogue


def collect_tests(suites: Path, *, extra_args: Sequence[str] = ()) -> dict[str, list[str]]:
    """Collect `suites` with pytest (no test runs) and return node ids per check id."""
    return collect([suites], extra_args=extra_args).found


def collect(paths: Sequence[Path], *, extra_args: Sequence[str] = ()) -> Collected:
    """Collect `paths` (none: the project's ``testpaths``) with pytest, no test runs."""
    import pytest

    class _Collector:
        def __init__(self) -> None:
            self.found: dict[str, list[str]] = {}
            self.catalogue = active()

        @pytest.hookimpl(trylast=True)
        def pytest_collection_finish(self, session: pytest.Session) -> None:
            self.found = tests_by_check(session.items)
            self.catalogue = active()

    collector = _Collector()
    output = io.StringIO()
    args = [
        "--collect-only",
        "-qq",
        "-p",
        "no:cacheprovider",
        "--capture=no",
        "--import-mode=importlib",
        *extra_args,
        *map(str, paths),
    ]
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        status = pytest.main(args, plugins=[collector])
    if int(status) not in (int(pytest.ExitCode.OK), int(pytest.ExitCode.NO_TESTS_COLLECTED)):
        what = ", ".join(map(str, paths)) or "the project's testpaths"
        raise CollectionError(f"collecting {what} failed (pytest exit {int(status)}):\n{output.getvalue().rstrip()}")
    return Collected(collector.found, collector.catalogue)


def build_coverage(found: Mapping[str, Sequence[str]], checks: Sequence[Check] | None = None) -> Coverage:
    """Join node ids per check id with the catalogue (default: the active one)."""
    checks = active().checks if checks is None else checks
    known = {check.id for check in checks}
    rows = tuple(CheckCoverage(check, tuple(sorted(found.get(check.id, ())))) for check in checks)
    unknown = {cid: tuple(sorted(ids)) for cid, ids in sorted(found.items()) if cid not in known}
    return Coverage(rows, unknown)


def coverage_json(coverage: Coverage, *, runbook_url: str = RUNBOOK_URL) -> dict[str, Any]:
    """The JSON document of ``wimmelgate catalogue --json`` (schema ``wimmelgate/catalogue/v1``)."""
    return {
        "schema": SCHEMA,
        "checks": [
            {
                "id": row.check.id,
                "title": row.check.title,
                "gates": list(row.check.gates),
                "sections": list(row.check.sections),
                "runbook": [runbook_link(runbook_url, s) for s in row.check.sections],
                "area": row.check.area,
                "destructive": row.check.destructive,
                "severity": row.check.severity,
                "uses": list(row.check.uses),
                "catalogue": row.check.source,
                "tests": list(row.tests),
            }
            for row in coverage.rows
        ],
        "missing": list(coverage.missing),
        "unknown": {cid: list(ids) for cid, ids in coverage.unknown.items()},
        "complete": coverage.complete,
    }


def coverage_text(coverage: Coverage) -> str:
    """A plain table for the terminal: id, gates, runbook sections, tests; then the gaps."""
    width = max([6, *(len(row.check.id) for row in coverage.rows)])
    lines = [f"{'id':<{width}} {'gates':<34} {'runbook':<10} tests"]
    for row in coverage.rows:
        tests = row.tests or ("-",)
        sections = ", ".join(f"§{s}" for s in row.check.sections)
        lines.append(f"{row.check.id:<{width}} {', '.join(row.check.gates):<34} {sections:<10} {tests[0]}")
        lines.extend(f"{'':<{width + 46}} {nodeid}" for nodeid in tests[1:])
    lines.append("")
    missing = coverage.missing
    lines.append(f"checks without a test ({len(missing)}): {', '.join(missing) if missing else 'none'}")
    for check_id, nodeids in coverage.unknown.items():
        lines.append(f"unknown check id {check_id}: {', '.join(nodeids)}")
    return "\n".join(lines) + "\n"


def coverage_markdown(coverage: Coverage, *, runbook_url: str = RUNBOOK_URL) -> str:
    """A Markdown table for a report attachment; runbook sections are links."""
    lines = ["| check | gates | runbook | tests |", "|---|---|---|---|"]
    for row in coverage.rows:
        sections = ", ".join(f"[§{s}]({runbook_link(runbook_url, s)})" for s in row.check.sections)
        tests = "<br>".join(f"`{t}`" for t in row.tests) or "**no test**"
        lines.append(f"| {row.check.id} | {', '.join(row.check.gates)} | {sections} | {tests} |")
    missing = coverage.missing
    lines += ["", f"Checks without a test ({len(missing)}): {', '.join(missing) if missing else 'none'}"]
    for check_id, nodeids in coverage.unknown.items():
        lines.append(f"Unknown check id `{check_id}`: {', '.join(f'`{n}`' for n in nodeids)}")
    return "\n".join(lines) + "\n"
