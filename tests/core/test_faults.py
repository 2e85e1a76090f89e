"""A blocked dependency is always unblocked: on success, on failure, on Ctrl-C, and by the guard
when the process that blocked it dies; every fault is written to the run's fault journal."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError
from pytest_wimmelgate.faults import blocked, make_provider
from pytest_wimmelgate.faults.journal import FaultJournal


def _provider(tmp_path: Path, *, journal: FaultJournal | None = None, bound_s: float = 40) -> object:
    flag = tmp_path / "blocked-{target}"
    return make_provider(
        {
            "provider": "command",
            "block_bound_s": bound_s / 2,
            "recovery_bound_s": bound_s / 2,
            "command": {"block": f"touch {flag}", "unblock": f"rm -f {flag}"},
        },
        source="env.yaml",
        sandbox_info=None,
        journal=journal,
    )


@pytest.mark.parametrize("interruption", [None, CheckFailed, KeyboardInterrupt])
def test_the_fault_is_lifted_whatever_happens_inside(tmp_path: Path, interruption: type[BaseException] | None) -> None:
    provider = _provider(tmp_path)
    flag = tmp_path / "blocked-database"
    try:
        with blocked(provider, "database"):  # type: ignore[arg-type]
            assert flag.exists()
            if interruption is CheckFailed:
                raise CheckFailed(Category.PRODUCT, "readiness still 200")
            if interruption is KeyboardInterrupt:
                raise KeyboardInterrupt
    except (CheckFailed, KeyboardInterrupt):
        pass
    assert not flag.exists()


def test_unknown_provider_and_missing_commands_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match=r"faults\.provider: one of sandbox, command, http"):
        make_provider({"provider": "chaos"}, source="env.yaml", sandbox_info=None)
    with pytest.raises(ConfigError, match=r"faults\.command\.unblock: a shell command"):
        make_provider({"provider": "command", "command": {"block": "true"}}, source="env.yaml", sandbox_info=None)
    with pytest.raises(ConfigError, match="'sandbox' needs a sandbox"):
        make_provider({"provider": "sandbox"}, source="env.yaml", sandbox_info=None)


# -- the journal -------------------------------------------------------------------
def test_the_journal_records_each_block_with_start_end_target_provider_and_check(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path, check="SG-3")
    provider = _provider(tmp_path, journal=journal)
    before = time.time()
    with blocked(provider, "database"):  # type: ignore[arg-type]
        (open_interval,) = journal.intervals()
        assert open_interval.ended_at is None, "an ongoing fault has no end yet"
    after = time.time()
    (interval,) = journal.intervals()
    what = (interval.target, interval.provider, interval.check, interval.kind)
    assert what == ("database", "command", "SG-3", "block")
    assert before <= interval.started_at <= interval.ended_at <= after  # type: ignore[operator]
    assert journal.first_start() == interval.started_at
    assert FaultJournal(tmp_path).first_start() == interval.started_at, "a second reader sees the same journal"


def test_a_block_that_failed_still_ends_its_interval(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path, check="SG-3")
    provider = make_provider(
        {"provider": "command", "command": {"block": "exit 3", "unblock": "true"}},
        source="env.yaml",
        sandbox_info=None,
        journal=journal,
    )
    with pytest.raises(CheckFailed, match="fault command 'block' exited 3"), blocked(provider, "database"):
        pass
    (interval,) = journal.intervals()
    assert interval.ended_at is not None


def test_an_empty_journal_has_no_first_start(tmp_path: Path) -> None:
    assert FaultJournal(tmp_path).intervals() == []
    assert FaultJournal(tmp_path).first_start() is None


def _journal_many(run_dir: str, worker: int, count: int) -> None:
    journal = FaultJournal(Path(run_dir), check=f"W-{worker}")
    for _ in range(count):
        journal.end(journal.start(target="database", provider="sandbox"))


def test_workers_writing_at_once_lose_no_interval(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_journal_many, args=(str(tmp_path), n, 25)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    intervals = FaultJournal(tmp_path).intervals()
    assert len(intervals) == 75
    assert all(i.ended_at is not None for i in intervals), "an end rewrite dropped another worker's line"


# -- the guard -----------------------------------------------------------------------
def _wait_for(condition: object, bound_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < bound_s:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def _blocking_child(tmp_path: Path, bound_s: float) -> subprocess.Popen[bytes]:
    flag = tmp_path / "blocked-database"
    script = textwrap.dedent(
        f"""
        import time
        from pytest_wimmelgate.faults import make_provider
        provider = make_provider(
            {{"provider": "command", "block_bound_s": {bound_s / 2}, "recovery_bound_s": {bound_s / 2},
              "command": {{"block": "touch {flag}", "unblock": "rm -f {flag}"}}}},
            source="env.yaml", sandbox_info=None)
        provider.block("database")
        print("blocked", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == b"blocked"
    assert flag.exists()
    return child


def test_sigkill_of_the_blocking_process_is_lifted_by_the_guard(tmp_path: Path) -> None:
    child = _blocking_child(tmp_path, bound_s=60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    lifted_after = _wait_for(lambda: not (tmp_path / "blocked-database").exists(), 10)
    assert lifted_after is not None, "the fault outlived the process that made it"


def test_a_fault_that_outlives_its_bound_is_lifted_while_the_process_lives(tmp_path: Path) -> None:
    child = _blocking_child(tmp_path, bound_s=2)
    try:
        lifted_after = _wait_for(lambda: not (tmp_path / "blocked-database").exists(), 10)
        assert lifted_after is not None, "a hung gate kept the fault beyond its bound"
        assert child.poll() is None, "the guard must not need the gate to die"
    finally:
        child.kill()
        child.wait()


def test_a_disarmed_guard_lifts_nothing_later(tmp_path: Path) -> None:
    provider = _provider(tmp_path, bound_s=1)
    flag = tmp_path / "blocked-database"
    with blocked(provider, "database"):  # type: ignore[arg-type]
        pass
    flag.touch()  # someone else's fault now: the guard of the finished block must leave it alone
    time.sleep(1.5)
    assert flag.exists()


def test_sigkill_of_the_blocking_process_is_lifted_through_the_http_hook(httpserver: HTTPServer) -> None:
    calls: list[str] = []
    httpserver.expect_request("/faults", method="POST").respond_with_handler(
        lambda request: calls.append(request.get_json()["action"]) or Response(status=204)
    )
    script = textwrap.dedent(
        f"""
        import time
        from pytest_wimmelgate.faults import make_provider
        provider = make_provider(
            {{"provider": "http", "http": {{"url": "{httpserver.url_for("/faults")}", "token": "hook-t0ken"}}}},
            source="env.yaml", sandbox_info=None)
        provider.block("database")
        print("blocked", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == b"blocked"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert _wait_for(lambda: calls == ["block", "unblock"], 10) is not None, calls
