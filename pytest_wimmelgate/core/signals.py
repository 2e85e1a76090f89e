"""SIGTERM, SIGHUP and SIGINT end a gate run the way Ctrl-C does: through pytest's interruption path.

CI sends SIGTERM on cancel or timeout, a closed terminal sends SIGHUP. Without a handler
the process dies at once: a blocked database stays blocked and the run folder gets no
summary. `InterruptSignals` turns the first of these signals into `GateInterrupted` (a
`KeyboardInterrupt`) in the main thread, so ``finally`` blocks lift faults, fixtures tear
down, `pytest_sessionfinish` writes a NO-GO summary naming the signal and the exit status
is 2. Later signals are noted and ignored, so that a second Ctrl-C or SIGTERM does not cut
the fault lifting or the summary short (the fault guard covers a SIGKILL).

With xdist the controller forwards the signal to its workers (CI signals only the main
process), where the same handler interrupts the running check.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import FrameType
from typing import Any

import pytest

HANDLED = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class GateInterrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; ``str()`` is ``interrupted by SIGTERM``."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}")


class InterruptSignals:
    """Plugin object (``wimmelgate-signals``): installs the handlers, knows which signal came."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}
        self._raising = False
        self._workers: list[int] = []

    @property
    def reason(self) -> str | None:
        """``interrupted by SIGTERM`` after a signal, else None."""
        return f"interrupted by {self.received}" if self.received else None

    def install(self) -> None:
        """Take over the signals (only the main thread may); `restore` gives them back."""
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for sig in HANDLED:
            self._previous[sig] = signal.signal(sig, self._handle)
        self._raising = True

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        self._raising = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signal.Signals(signum).name
        for pid in self._workers:
            with contextlib.suppress(OSError):  # that worker is gone already
                os.kill(pid, signum)
        if self._raising:
            raise GateInterrupted(self.received)

    # -- hooks -------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_newgateway(self, gateway: Any) -> None:
        """Note the pid of a local xdist worker, to forward a signal to it."""
        popen = getattr(getattr(gateway, "_io", None), "popen", None)  # execnet's popen gateways
        pid = getattr(popen, "pid", None)
        if isinstance(pid, int):
            self._workers.append(pid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self._raising = False  # from here on a signal must not cut the summary short

    @pytest.hookimpl
    def pytest_unconfigure(self) -> None:
        """Give the signals back, unless one came: then later ones stay noted and ignored through pytest's own
        clean-up after this hook (a third Ctrl-C cut it with a traceback); `plugin.py` gives them back last."""
        if self.received is None:
            self.restore()
