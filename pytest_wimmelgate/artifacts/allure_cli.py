"""The Allure command line: where it is, which major version it is, and what is missing when it is not there.

The project pins Allure 3 (npm ``allure``, Node >= 20, no Java) in its ``package.json``; ``npm install`` in the
project puts it into ``node_modules/.bin/allure``. Allure 2 (npm ``allure-commandline`` or a system package, which
needs Java) works too when a user points ``WIMMELGATE_ALLURE`` at it or has it on PATH.

Search order: the configured command (``--allure`` / ``$WIMMELGATE_ALLURE``), the project's pinned
``node_modules/.bin/allure``, ``allure`` on PATH, ``.ci/node/node_modules/.bin/allure``. A configured command that
does not resolve gives ``None`` (no silent fallback to another version).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "WIMMELGATE_ALLURE"
PINNED_PACKAGE = "allure"
PINNED_VERSION = "3.18.0"
NODE_MAJOR_NEEDED = 20
INSTALL_COMMAND = "npm install"
JAVA_HINT = "apt-get install openjdk-17-jre-headless"
LOCAL_BINARIES = ("node_modules/.bin/allure", ".ci/node/node_modules/.bin/allure")
VERSION = re.compile(r"^v?(\d+)\.(\d+)\.\d+\S*$")


@dataclass(frozen=True)
class AllureCli:
    """A runnable Allure command and its version (``major`` 2 or 3 decides the command line)."""

    command: tuple[str, ...]
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def display(self) -> str:
        return f"Allure {self.version} ({shlex.join(self.command)})"


def find_command(configured: str | None = None, *, root: Path | None = None) -> list[str] | None:
    """The Allure command by the search order of this module, or ``None``."""
    configured = configured or os.environ.get(ENV_VAR) or None
    if configured:
        words = shlex.split(configured)
        resolved = _executable(words[0]) if words else None
        return [resolved, *words[1:]] if resolved else None
    bases = _roots(root)
    pinned = _local(bases, LOCAL_BINARIES[0])
    if pinned:
        return [pinned]
    on_path = shutil.which("allure")
    if on_path:
        return [on_path]
    legacy = _local(bases, LOCAL_BINARIES[1])
    return [legacy] if legacy else None


def identify(command: list[str] | tuple[str, ...], *, timeout_s: float = 60) -> AllureCli | str:
    """Run ``allure --version``: the CLI with its version, or a one-line reason why it cannot run here."""
    shown = shlex.join(command)
    try:
        done = subprocess.run(
            [*command, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"`{shown} --version` gave no answer within {timeout_s:g} s"
    except OSError as error:
        return f"`{shown}` could not start: {error.strerror or error}"
    output = f"{done.stdout}\n{done.stderr}"
    if "JAVA_HOME" in output or "'java'" in output:
        return (
            f"{shown} is Allure 2, which needs Java 17 (no `java` found): install a JRE (`{JAVA_HINT}`) "
            f"or use the project's Allure 3 (`{INSTALL_COMMAND}`, Node only)"
        )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    match = VERSION.match(lines[-1]) if lines else None
    if done.returncode != 0 or match is None:
        detail = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "no output")
        return f"`{shown} --version` exited {done.returncode}: {detail[:200]}"
    version = lines[-1].lstrip("v")
    if int(match.group(1)) not in (2, 3):
        return f"{shown} is Allure {version}; supported are Allure 3 (pinned {PINNED_VERSION}) and Allure 2"
    return AllureCli(tuple(command), version)


def missing_reason(configured: str | None = None, *, root: Path | None = None) -> str:
    """One line: why no Allure command was found, and the command that adds one."""
    value = configured or os.environ.get(ENV_VAR)
    if value:
        return f"{ENV_VAR}/--allure {value!r} is not an executable"
    install = _install_hint(root)
    node = shutil.which("node")
    if node is None:
        return f"no Node.js found: install Node >= {NODE_MAJOR_NEEDED}, then {install}"
    major = _node_major(node)
    if major is not None and major < NODE_MAJOR_NEEDED:
        return f"Node.js {major} is too old for Allure 3: install Node >= {NODE_MAJOR_NEEDED}, then {install}"
    return f"Allure is not installed: {install}"


def _install_hint(root: Path | None) -> str:
    """The command that adds the pinned Allure: `npm install` in a project whose package.json pins it, else the
    explicit dev dependency for the user's own project."""
    for base in _roots(root):
        manifest = base / "package.json"
        if manifest.is_file() and f'"{PINNED_PACKAGE}"' in manifest.read_text("utf-8"):
            return f"run `{INSTALL_COMMAND}` in {base} (pins {PINNED_PACKAGE}@{PINNED_VERSION})"
    return f"run `npm install --save-dev {PINNED_PACKAGE}@{PINNED_VERSION}` in your project"


def _node_major(node: str) -> int | None:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = VERSION.match(done.stdout.strip())
    return int(match.group(1)) if match else None


def _local(bases: list[Path], relative: str) -> str | None:
    for base in bases:
        candidate = base / relative
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


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
