"""Bounded polling: every wait in a check has an end."""

from __future__ import annotations

import time
from collections.abc import Callable

from pytest_wimmelgate.errors import ProbeError


def poll_until(
    condition: Callable[[], bool],
    *,
    bound_s: float,
    interval_s: float = 0.2,
    tolerate: tuple[type[Exception], ...] = (ProbeError,),
) -> bool:
    """Call ``condition`` until it is true or ``bound_s`` passed; tolerated errors count as false."""
    deadline = time.monotonic() + bound_s
    while True:
        try:
            if condition():
                return True
        except tolerate:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
