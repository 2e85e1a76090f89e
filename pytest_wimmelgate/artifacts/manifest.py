"""``MANIFEST.sha256``: the checksum of every file of a run folder, in ``sha256sum -c`` format.

Written last, after the summary, JUnit, Allure results and the report, so
``cd <run-dir> && sha256sum -c MANIFEST.sha256`` proves the evidence is unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "MANIFEST.sha256"
CHUNK = 1 << 20


def write_manifest(run_dir: Path) -> Path:
    """Write ``<run_dir>/MANIFEST.sha256`` over all files except itself and lock files."""
    lines = [_line(digest(path), path.relative_to(run_dir).as_posix()) for path in manifest_files(run_dir)]
    target = run_dir / MANIFEST
    target.write_text("".join(lines), encoding="utf-8")
    return target


def verify_manifest(run_dir: Path) -> list[str]:
    """Problems found against ``MANIFEST.sha256`` (changed, missing or unlisted files)."""
    manifest = run_dir / MANIFEST
    if not manifest.is_file():
        return [f"{manifest}: missing"]
    listed: dict[str, str] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        expected, name = _parse(line)
        listed[name] = expected
    problems = []
    for name, expected in listed.items():
        path = run_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif digest(path) != expected:
            problems.append(f"{name}: checksum differs")
    for path in manifest_files(run_dir):
        name = path.relative_to(run_dir).as_posix()
        if name not in listed:
            problems.append(f"{name}: not in {MANIFEST}")
    return problems


def manifest_files(run_dir: Path) -> Iterator[Path]:
    """Regular files of the run folder in a stable order, without the manifest and locks."""
    for path in sorted(run_dir.rglob("*"), key=lambda p: p.relative_to(run_dir).as_posix()):
        if path.is_file() and not path.is_symlink() and not _excluded(path, run_dir):
            yield path


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _excluded(path: Path, run_dir: Path) -> bool:
    return path == run_dir / MANIFEST or path.name.endswith(".lock")


def _line(hexdigest: str, name: str) -> str:
    """One ``sha256sum`` line; names with a backslash or newline use its escaped form."""
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{hexdigest}  {escaped}\n"
    return f"{hexdigest}  {name}\n"


def _parse(line: str) -> tuple[str, str]:
    escaped = line.startswith("\\")
    body = line[1:] if escaped else line
    hexdigest, _, name = body.partition("  ")
    if escaped:
        name = name.replace("\\\\", "\0").replace("\\n", "\n").replace("\\r", "\r").replace("\0", "\\")
    return hexdigest, name
