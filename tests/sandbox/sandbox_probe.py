"""A plugin for inner gate runs (``-p tests.sandbox.sandbox_probe``): which sandbox
processes did the run start? Written at ``pytest_unconfigure``, i.e. before the run's
cleanup stops the sandbox, to the file named by ``$WG_SANDBOX_PROBE``.

It looks for ``wimmelgate-sandbox-*`` workdirs in the run's temporary directory (the
outer test gives the run a TMPDIR of its own) and records their ``sandbox.json`` URLs,
the pid files and which of those processes are running.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from pytest_wimmelgate.sandbox.launcher.processes import owns, read_pid_file

PROBE_ENV = "WG_SANDBOX_PROBE"


def pytest_unconfigure(config: pytest.Config) -> None:
    target = os.environ.get(PROBE_ENV)
    if not target or hasattr(config, "workerinput"):
        return
    found = []
    for info_file in sorted(Path(tempfile.gettempdir()).glob("wimmelgate-sandbox-*/sandbox.json")):
        data = json.loads(info_file.read_text(encoding="utf-8"))
        records = {path.stem: read_pid_file(path) for path in sorted((info_file.parent / "pids").glob("*.pid"))}
        found.append(
            {
                "prometheus_url": data["prometheus_url"],
                "alertmanager_url": data["alertmanager_url"],
                "dialect": data.get("dialect"),
                "pid_files": sorted(records),
                "running": sorted(name for name, record in records.items() if record is not None and owns(record)),
            }
        )
    Path(target).write_text(json.dumps(found), encoding="utf-8")
