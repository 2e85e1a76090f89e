"""Teardown that survives the outage it ran into: deletes retried until the dependency is back.

A check registers an undo action for everything it creates (`Cleanup.add`). At teardown,
also after a failure, the actions run newest first. An action that fails because the
backend or a dependency is down (``[infrastructure unreachable]``: 5xx, timeout, refused)
is retried every ``retry_interval_s`` until ``retry_bound_s`` has passed; any other
failure is final at once. What could not be undone is returned as a `Leftover`, which
the caller reports as a warning (and the end-of-run sweep tries once more).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_wimmelgate.contract.model import CleanupSettings
from pytest_wimmelgate.errors import Category, CheckFailed

RETRYABLE = frozenset({Category.INFRASTRUCTURE})


@dataclass(frozen=True)
class Leftover:
    """Something a check created and teardown could not remove."""

    what: str  # e.g. "upload 3f2a…" or "session of smoke@…"
    reason: str
    kind: str = ""
    id: str = ""

    def warning(self) -> str:
        return f"cleanup: {self.what} not removed ({self.reason})"


@dataclass
class _Action:
    what: str
    undo: Callable[[], None]
    kind: str
    id: str
    last_error: str = ""


@dataclass
class Cleanup:
    """Undo actions of one check (or of the run), run newest first with bounded retries."""

    settings: CleanupSettings = field(default_factory=CleanupSettings)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _actions: list[_Action] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, undo: Callable[[], None], *, kind: str = "", id: str = "") -> None:
        self._actions.append(_Action(what, undo, kind, id))

    def done(self, what: str) -> None:
        """The check removed it itself: its undo need not run."""
        self._actions = [a for a in self._actions if a.what != what]

    def __len__(self) -> int:
        return len(self._actions)

    def run(self) -> list[Leftover]:
        """Run every action; retry those failing for a dependency within the bound."""
        pending, self._actions = list(reversed(self._actions)), []
        deadline = self.clock() + self.settings.retry_bound_s
        leftovers: list[Leftover] = []
        while pending:
            retry: list[_Action] = []
            for action in pending:
                outcome = self._attempt(action)
                if outcome == "retry":
                    retry.append(action)
                elif outcome == "final":
                    leftovers.append(Leftover(action.what, action.last_error, action.kind, action.id))
            if not retry:
                break
            if self.clock() + self.settings.retry_interval_s > deadline:
                bound = f"still failing after {self.settings.retry_bound_s:g} s of retries"
                leftovers.extend(Leftover(a.what, f"{a.last_error}; {bound}", a.kind, a.id) for a in retry)
                break
            self.sleep(self.settings.retry_interval_s)
            pending = retry
        return leftovers

    def _attempt(self, action: _Action) -> str:
        self.attempts[action.what] = self.attempts.get(action.what, 0) + 1
        try:
            action.undo()
        except CheckFailed as error:
            action.last_error = error.reason
            return "retry" if error.category in RETRYABLE else "final"
        except Exception as error:  # a bug in an undo action must not hide the others
            action.last_error = f"{type(error).__name__}: {error}"
            return "final"
        return "done"
