"""One watch per metric group and run, also under xdist.

The checks of a group (RT-1 … RT-4) may land on different xdist workers. The first
worker to need the group watches it, holding a lock file in the run folder; the others
wait for its results (``metric-watch-<group>.json``) instead of watching a second time,
so ``-n 2`` measures, prints and judges exactly what ``-n 0`` does. Waiting polls the
lock, so Ctrl-C ends it at once. The results file holds the measurements only (header
values and secrets never enter them) and is passed through ``redact`` before writing.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from pytest_wimmelgate.metrics.watch import WatchResult

POLL_S = 0.1


def results_path(run_dir: Path, group: str) -> Path:
    return run_dir / f"metric-watch-{group}.json"


def watch_once(
    run_dir: Path,
    group: str,
    compute: Callable[[], dict[str, WatchResult]],
    *,
    redact: Callable[[str], str] = lambda text: text,
) -> dict[str, WatchResult]:
    """``compute()`` in the first process of the run that asks; the others read its results."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = results_path(run_dir, group)
    with open(run_dir / f".metric-watch-{group}.lock", "a+b") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(POLL_S)
        try:
            if path.exists():
                data = json.loads(path.read_text(encoding="utf-8"))
                return {oid: WatchResult.from_dict(item) for oid, item in data.items()}
            results = compute()
            text = redact(json.dumps({oid: r.to_dict() for oid, r in results.items()}, indent=1))
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
            return results
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
