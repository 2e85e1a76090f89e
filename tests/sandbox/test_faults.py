"""Fault spec parsing (WIMMELGATE_SANDBOX_FAULTS) and the refusal to start on a bad one."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_wimmelgate.sandbox.launcher.stack import Sandbox, SandboxError
from pytest_wimmelgate.sandbox.service.fault_switches import Faults, FaultSpecError, parse_faults


def test_empty_spec_means_no_faults() -> None:
    assert parse_faults("") == Faults()
    assert parse_faults(" , ") == Faults()


def test_all_switches_parse() -> None:
    faults = parse_faults(
        "error_rate=0.1, latency_ms=600,push_failure_rate=0.2,readiness_flap_rate=0.01,readiness_ignores_db=1"
    )
    assert faults == Faults(
        error_rate=0.1, latency_ms=600, push_failure_rate=0.2, readiness_flap_rate=0.01, readiness_ignores_db=True
    )
    assert parse_faults(faults.spec()) == faults


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("bogus=1", "unknown fault 'bogus'"),
        ("error_rate=2", "error_rate=2: expected a fraction between 0 and 1"),
        ("error_rate=abc", "expected a number"),
        ("latency_ms=-5", "expected milliseconds"),
        ("readiness_ignores_db=maybe", "expected 1 or 0"),
        ("error_rate", "expected key=value"),
        ("error_rate=0.1,error_rate=0.2", "given twice"),
        ("push_failure_rate=nan", "finite"),
    ],
)
def test_bad_spec_is_one_clear_line(spec: str, fragment: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(spec)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    assert message.startswith("WIMMELGATE_SANDBOX_FAULTS: ")


def test_backend_refuses_to_start_on_bad_spec(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        WIMMELGATE_SANDBOX_FAULTS="error_rate=0.1,bogus=1",
        MONGODB_URI="mongodb://127.0.0.1:9/wimmelwelt_sandbox",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest_wimmelgate.sandbox.service.server", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "unknown fault 'bogus'" in lines[0]


def test_launcher_refuses_bad_spec_before_starting_anything(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="unknown fault 'nope'"):
        Sandbox(tmp_path, faults="nope=1", prometheus="off", alertmanager="off").start()
    assert not (tmp_path / "pids").exists()


def test_rates_hit_exactly_their_share_evenly_spaced() -> None:
    from pytest_wimmelgate.sandbox.service.fault_switches import EvenlySpaced

    ten_percent = EvenlySpaced(0.1)
    hits = [i for i in range(100) if ten_percent.hit()]
    assert len(hits) == 10
    assert all(b - a == 10 for a, b in itertools.pairwise(hits))
    assert hits[0] < 10  # shows up early in a fresh sandbox
    assert all(EvenlySpaced(1.0).hit() for _ in range(5))
    assert not any(EvenlySpaced(0.0).hit() for _ in range(5))
