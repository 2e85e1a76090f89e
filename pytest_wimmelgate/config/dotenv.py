"""Read a dotenv file into a mapping of variables, without echoing any value on error.

Error style: a malformed file raises :class:`~pytest_wimmelgate.errors.ConfigError`
``(path, "line N", "KEY=VALUE ...")``; the message names the file and the line number
only, never the line's text (the line may hold a secret).

Accepted syntax (a conservative subset of what docker compose and python-dotenv read):

- blank lines and lines whose first non-blank character is ``#`` are ignored;
- ``KEY=VALUE`` or ``export KEY=VALUE``; blanks around ``=`` are allowed;
  ``KEY`` is ``[A-Za-z_][A-Za-z0-9_]*``;
- unquoted values are stripped; `` #`` (a blank, then ``#``) starts a comment;
- ``'single quoted'`` values are literal; ``"double quoted"`` values understand
  ``\\n``, ``\\r``, ``\\t``, ``\\"``, ``\\\\`` and ``\\$``; both may span lines (PEM keys);
  after the closing quote only blanks and a comment may follow;
- no ``${VAR}`` interpolation: values are taken literally;
- a key given twice: the last one wins, as in a shell.
"""

from __future__ import annotations

import re
from pathlib import Path

from pytest_wimmelgate.errors import ConfigError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPECTED = "KEY=VALUE"
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def load_dotenv(path: str | Path) -> dict[str, str]:
    """Read and parse the dotenv file at ``path``.

    A missing or unreadable file is a :class:`ConfigError` naming the path.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(source, "", "a dotenv file (not found)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "", f"a readable UTF-8 dotenv file ({exc.__class__.__name__})") from None
    return parse_dotenv(text, source)


def parse_dotenv(text: str, source: str = "<dotenv>") -> dict[str, str]:
    """Parse dotenv ``text``; ``source`` names it in errors (usually the file path)."""
    lines = text.splitlines()
    result: dict[str, str] = {}
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].lstrip()
        index += 1
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise ConfigError(source, f"line {number}", _EXPECTED)
        rest = rest.lstrip()
        if rest[:1] in ("'", '"'):
            value, index = _quoted(rest, lines, index, source, number)
        else:
            value = _unquoted(rest)
        result[key] = value
    return result


def _unquoted(rest: str) -> str:
    comment = re.search(r"\s#", rest)
    if comment:
        rest = rest[: comment.start()]
    return rest.strip()


def _quoted(rest: str, lines: list[str], index: int, source: str, number: int) -> tuple[str, int]:
    """Read a quoted value starting at ``rest``; it may continue on following lines."""
    quote = rest[0]
    text = rest[1:]
    chunks: list[str] = []
    while True:
        pos = 0
        while pos < len(text):
            char = text[pos]
            if quote == '"' and char == "\\" and pos + 1 < len(text):
                nxt = text[pos + 1]
                chunks.append(_ESCAPES.get(nxt, "\\" + nxt))
                pos += 2
                continue
            if char == quote:
                tail = text[pos + 1 :].strip()
                if tail and not tail.startswith("#"):
                    raise ConfigError(source, f"line {number}", f"{_EXPECTED} with nothing after the closing quote")
                return "".join(chunks), index
            chunks.append(char)
            pos += 1
        if index >= len(lines):
            kind = "double" if quote == '"' else "single"
            raise ConfigError(source, f"line {number}", f"{_EXPECTED} with a closing {kind} quote")
        chunks.append("\n")
        text = lines[index]
        index += 1
