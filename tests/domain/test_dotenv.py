"""dotenv parsing: the accepted syntax, and errors that name the line but not its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.dotenv import load_dotenv, parse_dotenv
from pytest_wimmelgate.errors import ConfigError

SAMPLE = """\
# production variables
export AUTH_SECRET=plain-value-1
LOG_LEVEL = info   # inline comment
SINGLE='a #literal $value\\n'
DOUBLE="line\\nbreak \\"quoted\\" \\$HOME"
EMPTY=
HASH=abc#def

PEM="-----BEGIN KEY-----
abc
-----END KEY-----"
LOG_LEVEL=debug
"""


def test_parses_every_accepted_form() -> None:
    values = parse_dotenv(SAMPLE, "prod.env")
    assert values == {
        "AUTH_SECRET": "plain-value-1",
        "LOG_LEVEL": "debug",  # the last one wins
        "SINGLE": "a #literal $value\\n",
        "DOUBLE": 'line\nbreak "quoted" $HOME',
        "EMPTY": "",
        "HASH": "abc#def",
        "PEM": "-----BEGIN KEY-----\nabc\n-----END KEY-----",
    }


def test_load_dotenv_reads_a_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("\ufeffKEY=value\n", encoding="utf-8")
    assert load_dotenv(path) == {"KEY": "value"}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("A=1\nsk_live_SuperSecretValue42\n", 2),
        ("A=1\n\n9KEY=SuperSecretValue42\n", 3),
        ("PASSWORD='SuperSecretValue42\nB=2\n", 1),
        ('TOKEN="SuperSecretValue42" trailing-SuperSecretValue42\n', 1),
        ("export =SuperSecretValue42\n", 1),
    ],
)
def test_malformed_line_names_the_line_never_the_value(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dotenv(text, "/srv/app/.env")
    assert info.value.source == "/srv/app/.env"
    assert info.value.key_path == f"line {line}"
    assert info.value.expected.startswith("KEY=VALUE")
    assert str(info.value).startswith(f"/srv/app/.env: line {line}: KEY=VALUE")
    assert "SuperSecret" not in str(info.value)
    assert "sk_live" not in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_dotenv(tmp_path / "nope.env")
    assert str(tmp_path / "nope.env") in str(info.value)
