"""The target lock across processes: shared holders overlap, an exclusive holder is alone and goes
ahead of shared holders that arrive after it; the lock is keyed by the target (not by the run
folder), waits are bounded, and lock files hold no values."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from pytest_wimmelgate.core.locks import TargetBusy, TargetLock, lock_dir, normalise_url, run_identities


class _Evidence:
    def __init__(self) -> None:
        self.attached: dict[str, object] = {}

    def json(self, name: str, data: object) -> None:
        self.attached[name] = data


def _hold(directory: str, identity: str, exclusive: bool, seconds: float, log: str, name: str, delay: float) -> None:
    time.sleep(delay)
    lock = TargetLock([identity], wait_bound_s=30, directory=Path(directory) if directory else None)
    with lock.hold(exclusive=exclusive) as waited:
        assert not waited.busy
        with open(log, "a") as out:
            out.write(f"{time.monotonic():.3f} start {name}\n")
        time.sleep(seconds)
        with open(log, "a") as out:
            out.write(f"{time.monotonic():.3f} end {name}\n")


def _run(
    tmp_path: Path, plan: list[tuple[str, str, bool, float, float]], directory: str
) -> dict[str, tuple[float, float]]:
    log = tmp_path / "log.txt"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_hold, args=(directory, identity, exclusive, seconds, str(log), name, delay))
        for name, identity, exclusive, seconds, delay in plan
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    events = sorted((float(t), kind, name) for t, kind, name in (line.split() for line in log.read_text().splitlines()))
    starts = {name: t for t, kind, name in events if kind == "start"}
    return {name: (starts[name], t) for t, kind, name in events if kind == "end"}


def _apart(spans: dict[str, tuple[float, float]], a: str, b: str) -> bool:
    return spans[a][1] <= spans[b][0] or spans[b][1] <= spans[a][0]


def test_an_exclusive_holder_never_overlaps_and_is_not_starved(tmp_path: Path) -> None:
    target = "backend:http://127.0.0.1:1"
    plan = [
        ("reader-1", target, False, 0.6, 0.0),
        ("writer", target, True, 0.3, 0.2),
        ("reader-2", target, False, 0.3, 0.4),
    ]
    spans = _run(tmp_path, plan, str(tmp_path))
    assert _apart(spans, "writer", "reader-1") and _apart(spans, "writer", "reader-2")
    assert spans["reader-2"][0] >= spans["writer"][1], "a reader that came after a waiting writer went first"


def test_shared_holders_overlap(tmp_path: Path) -> None:
    target = "backend:http://127.0.0.1:1"
    spans = _run(tmp_path, [("a", target, False, 0.5, 0.0), ("b", target, False, 0.5, 0.1)], str(tmp_path))
    assert spans["b"][0] < spans["a"][1], "two shared holders did not run at the same time"


def test_two_runs_against_one_backend_share_the_machine_wide_lock(tmp_path: Path) -> None:
    # the default lock directory: what two gate runs with different release folders use
    port = 20000 + uuid.uuid4().int % 40000
    run_a = run_identities(f"http://127.0.0.1:{port}/", None)
    run_b = run_identities(f"HTTP://127.0.0.1:{port}", None)
    assert run_a == run_b
    plan = [("destructive-a", run_a[0], True, 0.6, 0.0), ("ordinary-b", run_b[0], False, 0.2, 0.2)]
    spans = _run(tmp_path, plan, "")
    assert spans["ordinary-b"][0] >= spans["destructive-a"][1], "run B touched the target while run A faulted it"


def test_runs_against_different_targets_do_not_wait_for_each_other(tmp_path: Path) -> None:
    plan = [("a", "backend:http://127.0.0.1:1", True, 0.6, 0.0), ("b", "backend:http://127.0.0.1:2", True, 0.2, 0.1)]
    spans = _run(tmp_path, plan, str(tmp_path))
    assert spans["b"][0] < spans["a"][1]


def test_a_wait_beyond_the_bound_fails_the_check_as_target_busy(tmp_path: Path) -> None:
    holder = TargetLock(["backend:http://127.0.0.1:1"], wait_bound_s=30, directory=tmp_path)
    waiter = TargetLock(["backend:http://127.0.0.1:1"], wait_bound_s=0.3, directory=tmp_path)
    with holder.hold(exclusive=True), waiter.hold(exclusive=False) as waited:
        assert waited.busy and waited.waited_s >= 0.3
        with pytest.raises(TargetBusy, match=r"target busy: still locked by other checks after 0\.\d s"):
            waited.settle(_Evidence())
    with waiter.hold(exclusive=False) as again:
        assert not again.busy, "the busy attempt left a lock behind"
    holder.close()
    waiter.close()


def test_a_noteworthy_wait_is_in_the_checks_evidence(tmp_path: Path) -> None:
    evidence = _Evidence()
    context = multiprocessing.get_context("spawn")
    holder = context.Process(
        target=_hold, args=(str(tmp_path), "fault:x", True, 0.8, str(tmp_path / "log.txt"), "holder", 0.0)
    )
    holder.start()
    while not (tmp_path / "log.txt").exists():
        time.sleep(0.01)
    with TargetLock(["fault:x"], wait_bound_s=30, directory=tmp_path).hold(exclusive=False) as waited:
        waited.settle(evidence)
    holder.join(10)
    assert waited.waited_s >= 0.5
    assert evidence.attached["target lock wait"]["mode"] == "shared"  # type: ignore[index]


def test_lock_files_hold_no_values(tmp_path: Path) -> None:
    url = "http://user:s3cret@backend.example:8443/api"
    lock = TargetLock(run_identities(url, "command:kubectl scale db --replicas=0"), wait_bound_s=1, directory=tmp_path)
    with lock.hold(exclusive=True):
        pass
    lock.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4 and all(len(n.split(".")[0]) == 64 for n in names), names
    assert all((tmp_path / n).stat().st_size == 0 for n in names)
    assert not any("backend" in n or "s3cret" in n for n in names)


def test_the_lock_directory_is_machine_wide_not_per_run() -> None:
    assert lock_dir().parent == Path(tempfile.gettempdir())
    assert os.access(lock_dir(), os.W_OK)


def test_urls_naming_the_same_backend_normalise_alike() -> None:
    assert normalise_url("HTTP://Backend:80/api/") == normalise_url("http://backend/api") == "http://backend/api"
    assert normalise_url("https://backend:8443") != normalise_url("https://backend")
    assert run_identities("(not read in this run)", None) == []
