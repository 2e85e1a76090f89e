"""`WatchStop`: the signal that ends every watch of a run at once.

A rollback trigger that breaches ends the run within one interval (like k6's
``abortOnFail``): it sets the stop with its reason, and every watch that waits for its
next round wakes at once. Ctrl-C interrupts: it also cuts short a sample under way. A
stop can be local to the process (`set`) or reach every process of the run
(`set_everywhere`: a file in the run folder that watches on other xdist workers see
within ``poll_s``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

STOP_FILE = "watch-stop.json"


class WatchStop:
    """Set once with a reason; `wait` sleeps until it is set or the time is up."""

    def __init__(self, run_dir: Path | None = None, *, poll_s: float = 0.2) -> None:
        self._event = threading.Event()
        self._reason: str | None = None
        self._lock = threading.Lock()
        self._file = run_dir / STOP_FILE if run_dir is not None else None
        self._poll_s = poll_s
        self.interrupted = False

    def set(self, reason: str) -> None:
        """Stop the watches of this process; the first reason stays."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
        self._event.set()

    def interrupt(self, reason: str = "interrupted (Ctrl-C)") -> None:
        """Stop at once, abandoning measurements under way (their results are not used)."""
        self.interrupted = True
        self.set(reason)

    def set_everywhere(self, reason: str) -> None:
        """Stop the watches of every process of the run (and of this one)."""
        self.set(reason)
        if self._file is None or self._file.exists():
            return
        partial = self._file.with_name(f".{self._file.name}.{os.getpid()}")
        partial.write_text(json.dumps({"reason": reason, "pid": os.getpid(), "at": time.time()}), encoding="utf-8")
        os.replace(partial, self._file)

    def reason(self) -> str | None:
        """Why the watches stop, or None while they go on."""
        if self._reason is None and self._file is not None and self._file.exists():
            try:
                reason = str(json.loads(self._file.read_text(encoding="utf-8"))["reason"])
            except (OSError, ValueError, KeyError, TypeError):
                reason = "stopped by another process of this run"
            self.set(reason)
        return self._reason

    def wait(self, seconds: float) -> str | None:
        """Sleep up to ``seconds``; return the reason as soon as the stop is set."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            found = self.reason()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            step = left if self._file is None else min(left, self._poll_s)
            if self._event.wait(step):
                return self.reason()
