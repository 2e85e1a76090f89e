"""PF-2: the changelog has an entry for the version under test (runbook 2.1).

Style: :func:`check_entry` returns a :class:`ChangelogResult`; a failed requirement is
``ok=False``; ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`.

An entry is a level-2 Markdown heading naming the version, Keep-a-Changelog style
``## [1.4.2] - 2026-11-20`` or plain ``## 1.4.2`` (a leading ``v`` on either side is
ignored; ``1.4.2`` does not match ``1.4.20``), followed by at least one non-blank line
before the next level-2 heading. Missing file → ``configuration missing``; no entry or an
empty entry → ``product defect`` naming the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category

_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*$")
_VERSION = re.compile(r"^\[?\s*([0-9A-Za-z][^\s\[\]()]*)\s*\]?(?:\([^)]*\))?(?:\s+[-–—]\s*(.*))?$")
_UNKNOWN = {"", "unversioned", "unknown"}


@dataclass(frozen=True)
class ChangelogResult(CheckResult):
    """Outcome of PF-2."""


@dataclass(frozen=True)
class Entry:
    """A version heading, its line number (1-based), date text and body lines."""

    version: str
    line: int
    date: str
    body: tuple[str, ...]


def entries(text: str) -> list[Entry]:
    """Every level-2 heading that names a version, in file order."""
    lines = text.splitlines()
    heads = []
    for index, line in enumerate(lines):
        m = _HEADING.match(line)
        if m:
            heads.append((index, m.group(1)))
    found = []
    for n, (index, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        vm = _VERSION.match(title)
        if not vm:
            continue
        body = tuple(line for line in lines[index + 1 : end] if line.strip())
        found.append(Entry(vm.group(1), index + 1, (vm.group(2) or "").strip(), body))
    return found


def _norm(version: str) -> str:
    version = version.strip()
    return version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version


def check_entry(path: str | Path, version: str) -> ChangelogResult:
    """PF-2: ``path`` (CHANGELOG.md) has a non-empty entry for ``version``."""
    source = str(path)
    wanted = _norm(version)
    details: dict[str, Any] = {"changelog": source, "version": version}
    if wanted.lower() in _UNKNOWN:
        return ChangelogResult(
            "PF-2",
            False,
            f"version under test is unknown ({version or 'empty'}): set --wg-version",
            Category.CONFIG,
            details,
        )
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ChangelogResult("PF-2", False, f"changelog {source} not found", Category.CONFIG, details)
    except (OSError, UnicodeDecodeError) as exc:
        return ChangelogResult(
            "PF-2",
            False,
            f"changelog {source} not readable ({exc.__class__.__name__})",
            Category.CONFIG,
            details,
        )
    found = entries(text)
    details["versions_in_file"] = [e.version for e in found][:20]
    match = next((e for e in found if _norm(e.version) == wanted), None)
    if match is None:
        latest = f" (newest entry: {found[0].version})" if found else ""
        return ChangelogResult(
            "PF-2", False, f"{source} has no entry for version {version}{latest}", Category.PRODUCT, details
        )
    details.update(line=match.line, date=match.date or None, lines=len(match.body))
    if not match.body:
        return ChangelogResult(
            "PF-2",
            False,
            f"{source}:{match.line} entry for version {version} is empty",
            Category.PRODUCT,
            details,
        )
    dated = f" dated {match.date}" if match.date else ""
    return ChangelogResult("PF-2", True, f"{source}:{match.line} has an entry for {version}{dated}", None, details)
