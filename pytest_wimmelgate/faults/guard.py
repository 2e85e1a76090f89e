"""A guard outside the gate process that lifts a fault the gate could not lift itself.

`arm` starts ``python -m pytest_wimmelgate.faults.guard`` in its own session (so neither a
terminal's Ctrl-C nor a CI runner's signal to the gate's process group reaches it) and hands
it, over its stdin pipe, the provider's description (`guard_spec`, which may hold tokens:
never on a command line), the target, the owner pid and the bound. It answers ``armed`` and
then waits for one of:

* ``disarm`` - the gate lifted the fault itself; the guard exits;
* ``lift`` - the gate's own unblock failed; the guard repeats it now;
* end of its stdin or the owner pid gone - the gate process died (SIGKILL, out of memory)
  without lifting the fault; the guard lifts it;
* the bound passed - the fault outlived its bound (a hung gate); the guard lifts it.

Lifting repeats the provider's own unblock (sandbox: SIGCONT via the launcher; command: the
unblock command; http: POST the unblock), retried for a few seconds. An unblock must be safe
to repeat: the gate's own unblock may follow the guard's.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from typing import Any

from pytest_wimmelgate.errors import Category, CheckFailed

ARM_TIMEOUT_S = 10.0
LIFT_ATTEMPTS_S = 15.0
POLL_S = 0.25


class Guard:
    """The gate's end of one armed guard."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    def disarm(self) -> None:
        """The fault is lifted; the guard goes away."""
        self._send(b"disarm\n")
        self._reap(2.0)

    def lift_now(self) -> None:
        """The gate could not lift the fault; the guard lifts it at once (does not wait for it)."""
        self._send(b"lift\n")

    def _send(self, line: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None:
            return
        try:
            stdin.write(line)
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the guard already lifted the fault at its bound
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _reap(self, timeout_s: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout_s)  # else it exits on its own soon after
        if self.process.stdout is not None:
            self.process.stdout.close()


def arm(spec: dict[str, Any], target: str, *, bound_s: float) -> Guard:
    """Start a guard for a fault on ``target`` that is about to begin; returns once it holds."""
    job = {"spec": spec, "target": target, "owner": os.getpid(), "bound_s": bound_s}
    from pytest_wimmelgate.sandbox.launcher.processes import child_environ

    process = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=child_environ(),
        close_fds=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(job).encode("utf-8") + b"\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], ARM_TIMEOUT_S)
        answer = process.stdout.readline() if ready else b""
    except OSError:
        answer = b""
    if answer.strip() != b"armed":
        process.kill()
        process.wait()
        raise CheckFailed(
            Category.INFRASTRUCTURE,
            f"the fault guard did not start within {ARM_TIMEOUT_S:g} s; the fault on {target} was not made",
        )
    return Guard(process)


# -- the guard process ---------------------------------------------------------------
def wait_for_word(fd: int, owner: int, deadline: float) -> str:
    """``disarm``, ``lift``, ``gone`` (end of input or owner dead) or ``bound``."""
    from pytest_wimmelgate.sandbox.launcher.processes import is_alive

    pending = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "bound"
        ready, _, _ = select.select([fd], [], [], min(POLL_S, remaining))
        if not ready:
            if not is_alive(owner):
                return "gone"
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return "gone"
        pending += chunk
        for line in pending.splitlines():
            if line.strip() in (b"disarm", b"lift"):
                return line.strip().decode()


def _read_job(fd: int) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return dict(json.loads(data or b"{}"))


def lift(spec: dict[str, Any], target: str) -> bool:
    """Repeat the provider's unblock until it succeeds or `LIFT_ATTEMPTS_S` pass."""
    from pytest_wimmelgate.faults import bare_provider

    settings = {k: v for k, v in spec.items() if k != "sandbox_info"}
    deadline = time.monotonic() + LIFT_ATTEMPTS_S
    while True:
        try:
            bare_provider(settings, source="fault guard", sandbox_info=spec.get("sandbox_info")).unblock(target)
            return True
        except Exception as error:  # a guard keeps trying whatever went wrong
            if time.monotonic() >= deadline:
                sys.stderr.write(f"fault guard: could not lift {target}: {error}\n")
                return False
            time.sleep(0.5)


def main() -> int:
    fd = sys.stdin.fileno()
    job = _read_job(fd)
    deadline = time.monotonic() + float(job["bound_s"])
    sys.stdout.write("armed\n")
    sys.stdout.flush()
    word = wait_for_word(fd, int(job["owner"]), deadline)
    if word == "disarm":
        return 0
    return 0 if lift(job["spec"], str(job["target"])) else 1


if __name__ == "__main__":
    sys.exit(main())
