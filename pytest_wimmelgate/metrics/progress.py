"""Live progress of a watch: one line per objective and round, as it is measured.

``wimmelgate watch RT-1 round 3/31 t+4 s: 5xx rate 0.42 % (limit <= 2 %) ok, 56 s left``

Lines go to a file descriptor, not through pytest's capture: on an xdist worker the
terminal's stderr is the one way out while a test runs, so the gate suite hands in a
duplicate of the terminal's stderr taken with capture suspended (`terminal_fd`). One
``os.write`` per line keeps lines of parallel watches whole.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.metrics.settings import WatchSettings
from pytest_wimmelgate.metrics.slo import ERROR, FAIL, NO_DATA, PASS, _num
from pytest_wimmelgate.metrics.watch import Measurement

WORDS = {PASS: "ok", FAIL: "BREACH", NO_DATA: "no data", ERROR: "error"}


class FdLines:
    """Writes whole lines to one file descriptor from any thread."""

    def __init__(self, fd: int, redact: Any = None) -> None:
        self._fd = fd
        self._redact = redact
        self._lock = threading.Lock()
        self._first = True

    def __call__(self, line: str) -> None:
        text = self._redact(line) if self._redact is not None else line
        with self._lock:
            lead = "\n" if self._first else ""
            self._first = False
            with contextlib.suppress(OSError):  # a closed terminal must not fail the gate
                os.write(self._fd, f"{lead}{text}\n".encode("utf-8", "replace"))


class ProgressLines:
    """The observer of a watch: formats each measurement as one line and writes it."""

    def __init__(self, write: Any, settings: WatchSettings, labels: Mapping[str, str] | None = None) -> None:
        self._write = write
        self._settings = settings
        self._labels = dict(labels or {})

    def __call__(self, m: Measurement) -> None:
        self._write(progress_line(m, self._settings, self._labels.get(m.objective_id)))


def progress_line(m: Measurement, settings: WatchSettings, label: str | None = None) -> str:
    """One line: objective, round of rounds, offset, value against limit, verdict, time left."""
    ev = m.evaluation
    unit = f" {ev.unit}" if ev.unit else ""
    value = "n/a" if ev.value is None else f"{_num(ev.value)}{unit}"
    left = max(0.0, settings.duration_s - m.at_s)
    word = WORDS.get(ev.verdict, ev.verdict)
    if ev.verdict == NO_DATA and ev.events is not None and ev.min_events and ev.events < ev.min_events:
        word += f" ({_num(ev.events)} of the {ev.min_events} events needed)"
    return (
        f"wimmelgate watch {ev.objective_id} round {m.round + 1}/{settings.rounds} t+{m.at_s:.0f} s:"
        f" {label or ev.sli} {value} (limit {ev.comparison} {_num(ev.limit)}{unit}) {word}, {left:.0f} s left"
    )


def terminal_fd(config: Any) -> int:
    """A duplicate of the terminal's stderr, taken with pytest's capture suspended."""
    from contextlib import nullcontext

    capman = config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled() if capman is not None else nullcontext():
        return os.dup(2)
