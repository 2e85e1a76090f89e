"""The leak gate: after the run folder is written, no file of it may hold a secret in any form.

`LeakScanner` reads every file of the run folder (and the user's Allure/JUnit copies) and
looks for every form the run's `SecretSet` derives (plain, base64, percent-encodings,
escapes, lines of keys). A file with a hit is replaced by its redacted copy, and the hit
becomes a finding ``secret found in FILE (form)`` that turns the run NO-GO. A finding
names the file and the kind of encoding, never the value. The scanner remembers what it
read, so a second `scan` reads only files written or changed since (the report pages).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core.verdict import NO_GO, Finding, Verdict

CHECK = "leak scan"
SKIPPED_SUFFIXES = (".lock",)


@dataclass(frozen=True)
class LeakFinding:
    """A secret form found in a file (the path relative to the run folder when inside it)."""

    file: str
    form: str

    @property
    def reason(self) -> str:
        return f"secret found in {self.file} ({self.form})"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "form": self.form}


@dataclass(frozen=True)
class LeakScan:
    """What the scan did: files read, forms looked for, and what it found."""

    files: int
    forms: int
    findings: tuple[LeakFinding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "forms": self.forms, "findings": [f.to_json() for f in self.findings]}


@dataclass
class LeakScanner:
    """Scans a run folder and further roots (folders or files); see the module docstring."""

    run_dir: Path
    secrets: SecretSet
    extra: Iterable[str | Path | None] = ()
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)
    _findings: list[LeakFinding] = field(default_factory=list)

    def scan(self) -> LeakScan:
        """Read files not read yet (or changed since), redact hits in place; the scan so far."""
        roots = [self.run_dir, *(Path(p) for p in self.extra if p)]
        if not self.secrets.forms:  # nothing to look for: only count what there is
            self._seen = dict.fromkeys(_files(roots), (0, 0))
            return self.result()
        for path in _files(roots):
            try:
                stat = path.stat()
            except OSError:
                continue
            if self._seen.get(path) == (stat.st_mtime_ns, stat.st_size):
                continue
            for form in self._scan_file(path):
                self._findings.append(LeakFinding(self._shown(path), form))
            with contextlib.suppress(OSError):
                stat = path.stat()
            self._seen[path] = (stat.st_mtime_ns, stat.st_size)
        return self.result()

    def result(self) -> LeakScan:
        return LeakScan(len(self._seen), len(self.secrets.forms), tuple(self._findings))

    def _scan_file(self, path: Path) -> list[str]:
        if not self.secrets.forms:
            return []
        try:
            body = path.read_bytes()
        except OSError:
            return []
        text = body.decode("utf-8", "surrogateescape")  # bytes that are not UTF-8 survive the round trip
        forms = self.secrets.findings(text)
        if forms:
            tmp = path.with_name(path.name + ".leak-scan.tmp")
            tmp.write_bytes(self.secrets.redact(text).encode("utf-8", "surrogateescape"))
            os.replace(tmp, path)
        return forms

    def _shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.run_dir).as_posix()
        except ValueError:
            return str(path)


def record_in_summary(data: MutableMapping[str, Any], scan: LeakScan) -> bool:
    """Put the scan into ``gate-summary.json``'s data; findings make it NO-GO (exit 1 at least).

    Returns whether the verdict part changed (then the summary must be written again now)."""
    data["leak_scan"] = scan.to_json()
    if not scan.findings:
        return False
    data["verdict"] = NO_GO
    reasons = list(data.get("reasons") or [])
    reasons += [f"{CHECK}: {f.reason}" for f in scan.findings if f"{CHECK}: {f.reason}" not in reasons]
    data["reasons"] = reasons
    if not data.get("exit_status"):
        data["exit_status"] = 1
    return True


def with_findings(verdict: Verdict, scan: LeakScan | None) -> Verdict:
    """The verdict with one NO-GO line per finding (unchanged when the scan found nothing)."""
    if scan is None or not scan.findings:
        return verdict
    extra = tuple(Finding(NO_GO, CHECK, f.reason) for f in scan.findings)
    return Verdict(NO_GO, verdict.counts, (*verdict.findings, *extra), verdict.waivers)


def _files(roots: Iterable[Path]) -> list[Path]:
    """Regular files under the roots (a root may be a file), in a stable order, without lock files."""
    found: dict[Path, None] = {}
    for root in roots:
        if root.is_file() and not root.is_symlink():
            found[root] = None
            continue
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = Path(folder, name)
                if not name.endswith(SKIPPED_SUFFIXES) and not path.is_symlink():
                    found[path] = None
    return list(found)
