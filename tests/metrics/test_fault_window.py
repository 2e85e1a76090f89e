"""A run's own faults, read from its real fault journal, never count against its metric checks."""

from __future__ import annotations

from pathlib import Path

from pytest_wimmelgate.faults.journal import FaultInterval, FaultJournal
from pytest_wimmelgate.metrics.fault_window import RunFaults

NOW = 1_800_000_000.0
WINDOW_S = 300.0


def interval(start: float, end: float | None, check: str = "SG-3", target: str = "database") -> FaultInterval:
    return FaultInterval("x", target, "sandbox", "block", NOW + start, None if end is None else NOW + end, check, 1)


def faults(*intervals: FaultInterval, settle_s: float = 30.0) -> RunFaults:
    return RunFaults(lambda: list(intervals), clock=lambda: NOW, settle_s=settle_s)


def test_no_fault_leaves_the_window_at_now() -> None:
    clean = faults().clean_window(WINDOW_S)
    assert clean.end == NOW and not clean.moved and clean.note == ""


def test_a_fault_inside_the_window_moves_its_end_to_the_fault_start() -> None:
    clean = faults(interval(-20, -18)).clean_window(WINDOW_S)
    assert clean.moved and clean.end == NOW - 20
    assert clean.note.startswith("the window ends where this run's own fault began (SG-3's database block (sandbox)")
    assert "a run's own faults never count against it" in clean.note


def test_a_fault_that_ended_more_than_a_window_and_settling_ago_does_not_move_it() -> None:
    assert not faults(interval(-400, -335)).clean_window(WINDOW_S).moved  # ended 335 s ago > 300 + 30
    assert faults(interval(-400, -320)).clean_window(WINDOW_S).moved  # still settling into the window


def test_the_latest_clean_end_is_found_between_faults() -> None:
    # an old fault long before, a recent one: the window may end where the recent one began
    clean = faults(interval(-2000, -1990, "DR-3"), interval(-60, -50, "SG-3")).clean_window(WINDOW_S)
    assert clean.end == NOW - 60 and "SG-3's" in clean.note
    # two faults close together: the window must end before the first of them
    close = faults(interval(-200, -190, "DR-3"), interval(-60, -50, "SG-3")).clean_window(WINDOW_S)
    assert close.end == NOW - 200 and "DR-3's" in close.note and "and 1 later fault(s)" in close.note


def test_an_open_fault_is_active_and_overlaps_everything_after_its_start() -> None:
    open_fault = faults(interval(-5, None))
    active = open_fault.active() or ""
    assert active.startswith("SG-3's database block (sandbox) from ") and active.endswith(", still on")
    assert open_fault.overlaps(NOW - 1, NOW)
    assert not open_fault.overlaps(NOW - 10, NOW - 6)
    assert faults(interval(-100, -90)).active() is None


def test_the_journal_a_destructive_check_writes_is_what_is_read(tmp_path: Path) -> None:
    journal = FaultJournal(tmp_path).for_check("SG-3")
    run_faults = RunFaults.of_run(tmp_path)
    assert run_faults.active() is None
    with journal.recording(target="database", provider="sandbox"):
        fresh = RunFaults.of_run(tmp_path)
        assert (fresh.active() or "").startswith("SG-3's database block (sandbox) from ")
    clean = RunFaults.of_run(tmp_path).clean_window(WINDOW_S)
    first = FaultJournal(tmp_path).first_start()
    assert clean.moved and first is not None and clean.end == first
