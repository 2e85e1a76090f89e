"""PF-3 and RV-3: down migrations, backup plan, and the applied set after a rollback.

Style: ``check_*`` functions return a :class:`MigrationResult`; a failed requirement is
``ok=False``; ``raise_for_failure()`` turns it into
:class:`~pytest_wimmelgate.errors.CheckFailed`. Reading the applied migrations from
MongoDB raises :class:`~pytest_wimmelgate.errors.ProbeError` when the database cannot be
reached; :func:`run_applied_match` turns that into a failed result.

Default convention (migrate-mongo): one file per migration in a folder, named
``<timestamp>-<name>.js`` (glob ``*.js``, configurable), exporting ``up`` and ``down``;
applied migrations are documents ``{fileName, appliedAt}`` in the ``changelog``
collection (configurable) of the application database.

``up``/``down`` are detected by regular expressions over the source with comments and
string contents blanked out: ``module.exports = { async up(db) {...}, down: async () =>
..., up, down }``, ``export default {...}``, ``exports.up = ...``,
``module.exports.up = ...``, ``export async function up(...)``, ``export const up = ...``.
A ``down`` whose body is empty (migrate-mongo's template with only the TODO comment) or
only throws (an irreversible migration) counts as missing: then the backup plan is the
only way back.

Section ``migrations`` of an environment file::

    migrations:
      folder: migrations                 # relative to the project root
      glob: "*.js"
      collection: changelog
      uri_variable: MONGODB_URI          # RV-3: where the applied set is read
      database: null                     # default: the database named in the URI
      backup_plan: https://wiki.example/ops/backup-plan-1.4.2   # PF-3: URL or text
      previous_files: [...]              # RV-3: the files of release N-1, or
      previous_ref: v1.4.1               # a git ref whose <folder> holds them
      timeout_s: 5                       # MongoDB timeouts
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_wimmelgate.domain.result import CheckResult
from pytest_wimmelgate.errors import Category, ConfigError, NotConfigured, ProbeError

SECTION = "migrations"
DEFAULT_GLOB = "*.js"
DEFAULT_COLLECTION = "changelog"


@dataclass(frozen=True)
class MigrationResult(CheckResult):
    """Outcome of PF-3 or RV-3."""


@dataclass(frozen=True)
class MigrationFile:
    """One migration file and what it exports."""

    name: str
    has_up: bool
    has_down: bool
    down_note: str = ""  # why a present ``down`` does not count: "empty", "only throws"


@dataclass(frozen=True)
class AppliedMigration:
    """One document of the changelog collection."""

    file_name: str
    applied_at: datetime | None


# ----------------------------------------------------------------------------- JS scanning


def _blank_source(source: str) -> str:
    """Remove comments and blank out string contents, keeping quotes and line breaks."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
            continue
        if ch in "'\"`":
            out.append(ch)
            i += 1
            while i < n and source[i] != ch:
                if source[i] == "\\":
                    i += 1
                elif source[i] == "\n":
                    out.append("\n")
                i += 1
            out.append(ch)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at ``open_at`` (``{``, ``(``), or -1."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    opener = text[open_at]
    closer = pairs[opener]
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _function_body(text: str, after: int) -> str | None:
    """The body of the function whose definition continues at ``after``.

    Handles ``(params) {...}``, ``function name(params) {...}``, ``async (params) => {...}``,
    ``x => expr``. Returns the body text (an expression body is returned as is), or None
    when no function can be recognised (a reference to something defined elsewhere).
    """
    rest = text[after:]
    m = re.match(r"\s*(?:async\s+)?(?:function\s*\*?\s*[\w$]*\s*)?", rest)
    pos = after + (m.end() if m else 0)
    if pos < len(text) and text[pos] == "(":
        close = _matching(text, pos)
        if close < 0:
            return None
        pos = close + 1
    else:
        ident = re.match(r"[\w$]+", text[pos:])
        if not ident or not re.match(r"\s*=>", text[pos + ident.end() :]):
            return None
        pos += ident.end()
    arrow = re.match(r"\s*=>\s*", text[pos:])
    if arrow:
        pos += arrow.end()
        if pos < len(text) and text[pos] != "{":
            end = re.search(r"[,;}\n]", text[pos:])
            return text[pos : pos + end.start()] if end else text[pos:]
    brace = re.match(r"\s*\{", text[pos:])
    if not brace:
        return None
    open_at = pos + brace.end() - 1
    close = _matching(text, open_at)
    return text[open_at + 1 : close] if close >= 0 else None


def _body_note(body: str | None) -> str:
    if body is None:
        return ""
    stripped = body.strip()
    if not stripped:
        return "empty"
    if re.fullmatch(r"throw\b[^;]*;?", stripped, re.S):
        return "only throws"
    return ""


def _definition(text: str, name: str) -> tuple[bool, str]:
    """Whether ``name`` is defined as a function in the file, and its body note."""
    pattern = rf"(?:async\s+)?function\s*\*?\s*{name}\s*(?=\()|(?:const|let|var)\s+{name}\s*=\s*"
    m = re.search(pattern, text)
    if not m:
        return False, ""
    return True, _body_note(_function_body(text, m.end()))


def _exported(text: str, name: str) -> tuple[bool, str]:
    """Whether ``name`` is exported, and why its body does not count ("" if it does)."""
    direct = re.search(rf"(?:\bmodule\.)?\bexports\.{name}\s*=\s*", text)
    if direct:
        target = re.match(r"[\w$]+\s*[;\n]", text[direct.end() :])
        if target:  # exports.up = up;
            return _definition(text, target.group(0).strip(" ;\n"))
        return True, _body_note(_function_body(text, direct.end()))
    esm = re.search(rf"\bexport\s+(?:async\s+)?function\s*\*?\s*{name}\s*(?=\()", text)
    if esm:
        return True, _body_note(_function_body(text, esm.end()))
    esm_const = re.search(rf"\bexport\s+(?:const|let|var)\s+{name}\s*=\s*", text)
    if esm_const:
        return True, _body_note(_function_body(text, esm_const.end()))
    for obj in re.finditer(r"(?:\bmodule\.exports|\bexport\s+default)\s*=?\s*\{", text):
        open_at = obj.end() - 1
        close = _matching(text, open_at)
        body = text[open_at + 1 : close if close >= 0 else len(text)]
        # only the object's top level: blank nested brackets
        flat = _flatten(body)
        member = re.search(rf"(?:^|[,{{\s])(?:async\s+)?\*?\s*{name}\s*(\(|:|,|$)", flat)
        if not member:
            continue
        start = open_at + 1 + member.start(1)
        kind = member.group(1)
        if kind == "(":  # method shorthand: async up(db) {...}
            return True, _body_note(_function_body(text, start))
        if kind == ":":  # property: up: async () => ..., up: function () {...}, up: up
            value_at = start + 1
            ref = re.match(r"\s*([\w$]+)\s*(?:,|$)", text[value_at : close if close >= 0 else None])
            if ref and ref.group(1) not in ("async", "function"):
                return _definition(text, ref.group(1))
            return True, _body_note(_function_body(text, value_at))
        return _definition(text, name)  # shorthand: { up, down }
    return False, ""


def _flatten(body: str) -> str:
    """``body`` with the contents of nested brackets replaced by blanks (same length)."""
    out = list(body)
    depth = 0
    for i, ch in enumerate(body):
        if ch in "{([":
            if depth > 0:
                out[i] = " "
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth > 0:
                out[i] = " "
        elif depth > 0:
            out[i] = " " if ch != "\n" else "\n"
    return "".join(out)


def scan_source(name: str, source: str) -> MigrationFile:
    """What the migration source ``source`` (named ``name``) exports."""
    text = _blank_source(source)
    has_up, _ = _exported(text, "up")
    has_down, note = _exported(text, "down")
    return MigrationFile(name, has_up, has_down and not note, note)


def migration_files(folder: str | Path, glob: str = DEFAULT_GLOB) -> list[Path]:
    """The migration files in ``folder`` matching ``glob``, sorted by name."""
    return sorted(p for p in Path(folder).glob(glob) if p.is_file())


def scan_folder(folder: str | Path, glob: str = DEFAULT_GLOB) -> list[MigrationFile]:
    """Scan every migration file; an unreadable file counts as having neither function."""
    found = []
    for path in migration_files(folder, glob):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            found.append(MigrationFile(path.name, False, False, "unreadable"))
            continue
        found.append(scan_source(path.name, source))
    return found


def missing_down(folder: str | Path, glob: str = DEFAULT_GLOB) -> list[str]:
    """Names of the migrations without a usable ``down`` export."""
    return [m.name for m in scan_folder(folder, glob) if not m.has_down]


# ----------------------------------------------------------------------------- PF-3


def check_down_migrations(
    folder: str | Path, glob: str = DEFAULT_GLOB, backup_plan: str | None = None
) -> MigrationResult:
    """PF-3: every migration has ``up`` and a usable ``down``; a backup plan is referenced."""
    path = Path(folder)
    plan_problem = backup_plan_problem(backup_plan)
    if not path.is_dir():
        return MigrationResult(
            "PF-3",
            False,
            f"migrations folder {folder} does not exist",
            Category.CONFIG,
            {"folder": str(folder)},
        )
    scanned = scan_folder(path, glob)
    no_down = [m for m in scanned if not m.has_down]
    no_up = [m.name for m in scanned if not m.has_up]
    details: dict[str, Any] = {
        "folder": str(folder),
        "glob": glob,
        "migrations": [m.name for m in scanned],
        "missing_down": [m.name + (f" ({m.down_note})" if m.down_note else "") for m in no_down],
        "missing_up": no_up,
        "backup_plan": backup_plan or None,
    }
    problems = []
    if no_down:
        problems.append("no down migration in " + ", ".join(details["missing_down"]))
    if no_up:
        problems.append("no up export in " + ", ".join(no_up))
    if plan_problem:
        problems.append(plan_problem)
    if problems:
        category = Category.CONFIG if plan_problem and not (no_down or no_up) else Category.PRODUCT
        return MigrationResult("PF-3", False, "; ".join(problems), category, details)
    count = (
        f"{len(scanned)} migrations in {folder} have up and down"
        if scanned
        else (f"no migration files match {glob} in {folder}")
    )
    return MigrationResult("PF-3", True, f"{count}; backup plan {backup_plan}", None, details)


def backup_plan_problem(value: str | None) -> str | None:
    """What is wrong with the backup plan reference, or None: a non-empty text; a value
    that looks like a URL must be an http(s) URL with a host."""
    text = (value or "").strip()
    if not text:
        return "no backup plan referenced (migrations.backup_plan)"
    if "://" in text and " " not in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "backup plan reference is not an http(s) URL with a host"
    return None


# ----------------------------------------------------------------------------- RV-3


def applied(
    mongo_uri: str,
    collection: str = DEFAULT_COLLECTION,
    database: str | None = None,
    timeout_s: float = 5.0,
) -> list[AppliedMigration]:
    """The applied migrations (``{fileName, appliedAt}``) from MongoDB, oldest first.

    ``database`` defaults to the one named in the URI. Raises :class:`ProbeError`
    (never quoting the URI, which may hold credentials).
    """
    import pymongo
    from pymongo.errors import PyMongoError

    from pytest_wimmelgate.config.fingerprint import uri_hosts

    hosts = ",".join(uri_hosts(mongo_uri)) or "?"
    ms = int(timeout_s * 1000)
    try:
        client: Any = pymongo.MongoClient(
            mongo_uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms, tz_aware=True
        )
    except Exception as exc:
        raise ProbeError(
            Category.CONFIG, f"mongodb {hosts}: bad connection settings ({exc.__class__.__name__})"
        ) from None
    try:
        db = client[database] if database else client.get_default_database()
    except Exception:
        client.close()
        raise ProbeError(Category.CONFIG, f"mongodb {hosts}: the URI names no database") from None
    where = f"mongodb {hosts} {db.name}.{collection}"
    try:
        docs = list(db[collection].find({}, {"fileName": 1, "appliedAt": 1}))
    except PyMongoError as exc:
        raise ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}") from None
    finally:
        client.close()
    result = [
        AppliedMigration(str(d["fileName"]), d.get("appliedAt") if isinstance(d.get("appliedAt"), datetime) else None)
        for d in docs
        if d.get("fileName")
    ]
    return sorted(result, key=lambda a: (a.applied_at is None, a.applied_at or datetime.min, a.file_name))


def applied_match(applied_names: Iterable[str], expected_files: Iterable[str], release: str = "N-1") -> MigrationResult:
    """RV-3: the applied set equals the migration files of release ``release``.

    Applied but not expected: the down migration did not run. Expected but not applied:
    the database is behind release N-1 (or a down ran once too often).
    """
    have = set(applied_names)
    want = set(expected_files)
    not_rolled_back = sorted(have - want)
    missing = sorted(want - have)
    details = {
        "release": release,
        "applied": sorted(have),
        "expected": sorted(want),
        "not_rolled_back": not_rolled_back,
        "missing": missing,
    }
    problems = []
    if not_rolled_back:
        problems.append("still applied (down migration did not run): " + ", ".join(not_rolled_back))
    if missing:
        problems.append(f"{release} migrations not applied: " + ", ".join(missing))
    if problems:
        return MigrationResult(
            "RV-3",
            False,
            f"applied migrations differ from {release}: " + "; ".join(problems),
            Category.PRODUCT,
            details,
        )
    return MigrationResult("RV-3", True, f"applied migrations match {release} ({len(want)} migrations)", None, details)


def files_at_ref(repo: str | Path, ref: str, folder: str, glob: str = DEFAULT_GLOB) -> list[str]:
    """The migration file names in ``folder`` at git ``ref`` (e.g. the N-1 tag).

    Raises :class:`ProbeError` (category configuration) when git cannot list them.
    """
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "ls-tree", "--name-only", f"{ref}:{folder.strip('/')}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeError(Category.CONFIG, f"git ls-tree {ref}:{folder}: {exc.__class__.__name__}") from None
    if proc.returncode != 0:
        raise ProbeError(Category.CONFIG, f"git ls-tree {ref}:{folder}: ref or folder not found")
    return sorted(n for n in proc.stdout.splitlines() if fnmatch.fnmatch(n, glob))


@dataclass(frozen=True)
class MigrationSettings:
    """The parsed ``migrations`` section."""

    source: str
    folder: str
    glob: str = DEFAULT_GLOB
    collection: str = DEFAULT_COLLECTION
    uri_variable: str = "MONGODB_URI"
    database: str | None = None
    backup_plan: str | None = None
    previous_files: tuple[str, ...] | None = None
    previous_ref: str | None = None
    timeout_s: float = 5.0


def parse_migration_settings(section: Mapping[str, Any] | None, source: str) -> MigrationSettings:
    """Validate the ``migrations`` section of the environment file at ``source``."""
    if section is None:
        raise NotConfigured(SECTION)
    keys = (
        "folder",
        "glob",
        "collection",
        "uri_variable",
        "database",
        "backup_plan",
        "previous_files",
        "previous_ref",
        "timeout_s",
    )
    if not isinstance(section, Mapping):
        raise ConfigError(source, SECTION, "a mapping")
    for k in section:
        if k not in keys:
            raise ConfigError(source, f"{SECTION}.{k}", "one of: " + ", ".join(keys))
    texts: dict[str, str | None] = {}
    for k in ("folder", "glob", "collection", "uri_variable", "database", "backup_plan", "previous_ref"):
        v = section.get(k)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise ConfigError(source, f"{SECTION}.{k}", "a non-empty text")
        texts[k] = v
    if texts["folder"] is None:
        raise ConfigError(source, f"{SECTION}.folder", "the folder holding the migration files")
    previous = section.get("previous_files")
    if previous is not None and (
        not isinstance(previous, list) or not all(isinstance(p, str) and p.strip() for p in previous)
    ):
        raise ConfigError(source, f"{SECTION}.previous_files", "a list of file names")
    timeout = section.get("timeout_s", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise ConfigError(source, f"{SECTION}.timeout_s", "seconds between 0 and 60")
    return MigrationSettings(
        source=source,
        folder=str(texts["folder"]),
        glob=texts["glob"] or DEFAULT_GLOB,
        collection=texts["collection"] or DEFAULT_COLLECTION,
        uri_variable=texts["uri_variable"] or "MONGODB_URI",
        database=texts["database"],
        backup_plan=texts["backup_plan"],
        previous_files=tuple(previous) if previous is not None else None,
        previous_ref=texts["previous_ref"],
        timeout_s=float(timeout),
    )


def run_applied_match(
    settings: MigrationSettings, environ: Mapping[str, str], root: str | Path = "."
) -> MigrationResult:
    """RV-3 end to end: read the applied set, compare with the N-1 files."""
    try:
        if settings.previous_files is not None:
            expected: Sequence[str] = settings.previous_files
            release = "N-1"
        elif settings.previous_ref:
            expected = files_at_ref(root, settings.previous_ref, settings.folder, settings.glob)
            release = settings.previous_ref
        else:
            raise NotConfigured(f"{SECTION}.previous_files")
        uri = (environ.get(settings.uri_variable) or "").strip()
        if not uri:
            return MigrationResult(
                "RV-3",
                False,
                f"{settings.uri_variable} not set: cannot read applied migrations",
                Category.CONFIG,
            )
        names = [a.file_name for a in applied(uri, settings.collection, settings.database, settings.timeout_s)]
    except ProbeError as exc:
        return MigrationResult("RV-3", False, exc.reason, exc.category, dict(exc.evidence))
    return applied_match(names, expected, release)
