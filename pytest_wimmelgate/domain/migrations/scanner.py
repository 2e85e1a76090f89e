"""Which migration files export ``up`` and a usable ``down``: a scanner of JavaScript sources.

Default convention (migrate-mongo): one file per migration in a folder, named
``<timestamp>-<name>.js`` (glob ``*.js``, configurable), exporting ``up`` and ``down``.

``up``/``down`` are detected by regular expressions over the source with comments and
string contents blanked out: ``module.exports = { async up(db) {...}, down: async () =>
..., up, down }``, ``export default {...}``, ``exports.up = ...``,
``module.exports.up = ...``, ``export async function up(...)``, ``export const up = ...``.
A ``down`` whose body is empty (migrate-mongo's template with only the TODO comment) or
only throws (an irreversible migration) counts as missing: then the backup plan is the
only way back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GLOB = "*.js"


@dataclass(frozen=True)
class MigrationFile:
    """One migration file and what it exports."""

    name: str
    has_up: bool
    has_down: bool
    down_note: str = ""  # why a present ``down`` does not count: "empty", "only throws"


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
