"""Start-up tasks on threads: all run at once, the first failure cancels the others' waits."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pytest_wimmelgate.sandbox.launcher.processes import StartCancelled

JOIN_POLL_S = 0.05


class Tasks:
    """``run`` starts a task on a daemon thread; `join` waits for all and raises the first
    failure. Tasks pass `cancelled` to their waits, so one failure ends the start quickly."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()

    def run(self, name: str, task: Callable[[], None]) -> None:
        def body() -> None:
            try:
                task()
            except BaseException as exc:
                with self._lock:
                    self._errors.append(exc)
                self.cancelled.set()

        thread = threading.Thread(target=body, name=f"sandbox-start-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        """Wait for every task; the first real failure is raised (Ctrl-C cancels them)."""
        try:
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(JOIN_POLL_S)
        except BaseException:
            self.cancelled.set()
            raise
        real = [error for error in self._errors if not isinstance(error, StartCancelled)]
        if real:
            raise real[0]
        if self._errors:
            raise self._errors[0]
