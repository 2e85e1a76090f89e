"""Redaction of everything pytest itself shows or writes of a gate run.

`redact_report` cleans one test or collection report (traceback, captured output and
logs, user properties) before the terminal, JUnit or Allure reads it. `OutputRedaction`
is the plugin the gate session registers for the rest:

- **test ids**: a report whose node id holds a secret (a parametrize id made of a
  token) gets a redacted display id, unique in the run, before anyone reads it, so
  ``FAILED …[***]``, ``-v`` lines, JUnit and the summary never see the value. Items keep
  their real ids (pytest and xdist rely on them); the terminal writer masks those where
  pytest prints them itself (``-v`` start lines).
- **logs**: a log-record factory masks the message (and a logged traceback) when the
  record is made, so live logging (``--log-cli-level``), ``--log-file``, captured logs
  and any handler of the user's see the redacted record only.
- **the terminal**: the terminal writer's ``write`` masks every text before it is
  written (headers, progress, warnings summary, anything another plugin prints).
- **``-s``**: with capturing off, ``sys.stdout``/``sys.stderr`` are wrapped by a
  line-buffered redacting stream, so what a test prints is masked before it is shown.

Not covered: bytes written straight to file descriptor 1/2 (subprocesses, C code) with
``-s``, and output printed under ``--capture=tee-sys`` or inside ``capsys.disabled()``
(pytest writes those to the stream it saved at start-up). The leak scan over the run
folder (`artifacts.leak_scan`) is the net behind all of this.

Seams on pytest (pinned pytest >=8.3,<10): the terminal writer from the public
``config.get_terminal_writer()`` gets an instance attribute over its public ``write``
method; reports are changed through their public ``nodeid``/``location`` attributes.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Generator, Iterable
from typing import IO, Any

import pytest

from pytest_wimmelgate.config.secrets import SecretSet

PLUGIN_NAME = "wimmelgate-redaction"
LINE_LIMIT = 8192  # a pending partial line longer than this is written anyway


def redact_report(report: pytest.TestReport | pytest.CollectReport, secrets: SecretSet) -> None:
    """Remove secret values from what the terminal, JUnit and Allure read of a report."""
    if not secrets.forms:
        return
    if isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, secrets.redact(str(message)))
    elif isinstance(report.longrepr, str):
        report.longrepr = secrets.redact(report.longrepr)
    elif report.longrepr is not None:
        _redact_object(report.longrepr, secrets, depth=0)
    report.sections = [(title, secrets.redact(content)) for title, content in report.sections]
    if isinstance(report, pytest.TestReport):
        report.user_properties = [
            (secrets.redact(str(name)), secrets.redact(value) if isinstance(value, str) else value)
            for name, value in report.user_properties
        ]


class OutputRedaction:
    """Plugin object redacting test ids, log records, terminal output and ``-s`` output."""

    def __init__(self, config: pytest.Config, secrets: SecretSet) -> None:
        self.config = config
        self.secrets = secrets
        self.worker = hasattr(config, "workerinput")
        self._shown: dict[str, str] = {}
        self._taken: set[str] = set()
        self._streams: list[RedactingStream] = []
        self._undo: list[Callable[[], None]] = []

    @classmethod
    def install(cls, config: pytest.Config, secrets: SecretSet) -> OutputRedaction:
        """Register the plugin and start redacting; everything is undone at config cleanup."""
        plugin = cls(config, secrets)
        plugin._undo.append(_install_record_factory(secrets))
        plugin._wrap_terminal()
        if getattr(config.option, "capture", None) == "no":
            plugin._wrap_std_streams()
        config.pluginmanager.register(plugin, PLUGIN_NAME)
        config.add_cleanup(plugin.uninstall)
        return plugin

    def uninstall(self) -> None:
        for stream in self._streams:
            stream.flush()
        while self._undo:
            self._undo.pop()()
        if self.config.pluginmanager.is_registered(self):
            self.config.pluginmanager.unregister(self)

    # -- hooks -------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        redact_report(report, self.secrets)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Give the report its display id before the terminal, JUnit and the gate session read it.

        Not on an xdist worker: xdist checks there that a report's id is its item's; the
        controller, which receives the report, rewrites it.
        """
        if self.worker:
            return
        report.nodeid = self.display_id(report.nodeid)
        path, line, domain = report.location
        report.location = (path, line, self.secrets.redact(domain))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        report: pytest.CollectReport = yield
        redact_report(report, self.secrets)
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        for stream in self._streams:
            stream.flush()

    def display_id(self, nodeid: str) -> str:
        """The id shown for a node id: itself when clean, else redacted and unique (``[***]``, ``[***-2]``)."""
        shown = self._shown.get(nodeid)
        if shown is None:
            clean = self.secrets.redact(nodeid)
            shown, number = clean, 1
            while shown != nodeid and shown in self._taken:
                number += 1
                shown = f"{clean[:-1]}-{number}]" if clean.endswith("]") else f"{clean}-{number}"
            self._shown[nodeid] = shown
            self._taken.add(shown)
        return shown

    # -- outputs -----------------------------------------------------------------
    def _wrap_terminal(self) -> None:
        """Mask every text the terminal writer is given (an instance attribute over its ``write``)."""
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:
            return
        writer = self.config.get_terminal_writer()
        original = writer.write
        secrets = self.secrets

        def write(msg: str, *, flush: bool = False, **markup: bool) -> None:
            original(secrets.redact(msg), flush=flush, **markup)

        writer.write = write  # type: ignore[method-assign]

        def undo() -> None:
            if writer.__dict__.get("write") is write:
                del writer.write

        self._undo.append(undo)

    def _wrap_std_streams(self) -> None:
        for name in ("stdout", "stderr"):
            original = getattr(sys, name)
            if isinstance(original, RedactingStream):
                continue
            stream = RedactingStream(original, self.secrets)
            setattr(sys, name, stream)
            self._streams.append(stream)
            self._undo.append(_restore_stream(name, stream, original))


class RedactingStream:
    """A text stream that masks secrets line by line before passing text on."""

    def __init__(self, stream: IO[str], secrets: SecretSet) -> None:
        self._stream = stream
        self._secrets = secrets
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(self._secrets.redact(complete + "\n"))
        elif len(self._pending) > LINE_LIMIT:
            self.flush()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._stream.write(self._secrets.redact(pending))
        with contextlib.suppress(ValueError, OSError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _restore_stream(name: str, stream: RedactingStream, original: IO[str]) -> Callable[[], None]:
    def restore() -> None:
        stream.flush()
        if getattr(sys, name) is stream:
            setattr(sys, name, original)

    return restore


def _install_record_factory(secrets: SecretSet) -> Callable[[], None]:
    """Mask log records as they are made; returns the function that puts the old factory back."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record, secrets)
        return record

    logging.setLogRecordFactory(factory)

    def restore() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return restore


def redact_record(record: logging.LogRecord, secrets: SecretSet) -> None:
    """Mask a record's message, traceback and stack in place (unchanged when it holds no secret)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format: logging would print msg and args raw, so mask them
        message = f"{record.msg!s} {record.args!r}"
    clean = secrets.redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        clean = secrets.redact(text)
        if clean != text:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = secrets.redact(record.stack_info)


def _redact_object(node: Any, secrets: SecretSet, depth: int) -> Any:
    """Redact strings inside pytest's repr objects in place (they are plain dataclasses)."""
    if isinstance(node, str):
        return secrets.redact(node)
    if depth > 12 or node is None or isinstance(node, (int, float, bool, bytes)):
        return node
    if isinstance(node, list):
        node[:] = [_redact_object(v, secrets, depth + 1) for v in node]
        return node
    if isinstance(node, tuple):
        return tuple(_redact_object(v, secrets, depth + 1) for v in node)
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _redact_object(node[key], secrets, depth + 1)
        return node
    attributes = getattr(node, "__dict__", None)
    if attributes is not None:
        for name, value in list(attributes.items()):
            redacted = _redact_object(value, secrets, depth + 1)
            if redacted is not value:
                with contextlib.suppress(AttributeError, TypeError):
                    object.__setattr__(node, name, redacted)
    return node
