"""The target lock across processes: shared holders overlap, an exclusive holder is alone
and goes ahead of shared holders that arrive after it."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from pytest_wimmelgate.core.locks import TargetLock


def _hold(path: str, exclusive: bool, seconds: float, log: str, name: str, delay: float) -> None:
    time.sleep(delay)
    with TargetLock(Path(path)).hold(exclusive=exclusive):
        with open(log, "a") as out:
            out.write(f"{time.monotonic():.3f} start {name}\n")
        time.sleep(seconds)
        with open(log, "a") as out:
            out.write(f"{time.monotonic():.3f} end {name}\n")


def _run(tmp_path: Path, plan: list[tuple[str, bool, float, float]]) -> list[tuple[float, str, str]]:
    log = tmp_path / "log.txt"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_hold, args=(str(tmp_path / ".target.lock"), exclusive, seconds, str(log), name, delay))
        for name, exclusive, seconds, delay in plan
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    events = [line.split() for line in log.read_text().splitlines()]
    return sorted((float(t), kind, name) for t, kind, name in events)


def _intervals(events: list[tuple[float, str, str]]) -> dict[str, tuple[float, float]]:
    starts = {name: t for t, kind, name in events if kind == "start"}
    return {name: (starts[name], t) for t, kind, name in events if kind == "end"}


def test_an_exclusive_holder_never_overlaps_and_is_not_starved(tmp_path: Path) -> None:
    plan = [("reader-1", False, 0.6, 0.0), ("writer", True, 0.3, 0.2), ("reader-2", False, 0.3, 0.4)]
    spans = _intervals(_run(tmp_path, plan))
    w_start, w_end = spans["writer"]
    for reader in ("reader-1", "reader-2"):
        r_start, r_end = spans[reader]
        assert r_end <= w_start or r_start >= w_end, f"{reader} overlapped the exclusive holder"
    assert spans["reader-2"][0] >= w_end, "a reader that came after a waiting writer went first"


def test_shared_holders_overlap(tmp_path: Path) -> None:
    spans = _intervals(_run(tmp_path, [("a", False, 0.5, 0.0), ("b", False, 0.5, 0.1)]))
    assert spans["b"][0] < spans["a"][1], "two shared holders did not run at the same time"
