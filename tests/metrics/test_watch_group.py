"""A group of watches: a rollback trigger's breach ends them all, progress lines, one watch per run."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pytest_wimmelgate.metrics import gate, progress, slo, watch
from pytest_wimmelgate.metrics.settings import WatchSettings
from pytest_wimmelgate.metrics.shared_watch import results_path, watch_once
from pytest_wimmelgate.metrics.watch_stop import WatchStop

RT1 = slo.Objective("RT-1", slo.DEFAULT_SLIS["error_rate_5xx_pct"], "<=", 2, "5m")
RT2 = slo.Objective("RT-2", slo.DEFAULT_SLIS["latency_p95_ms"], "<=", 500, "5m")
#: short rounds, long watch: a watch that is not stopped takes 100 rounds
FAST = WatchSettings(duration_s=5.0, interval_s=0.05)


class Values:
    """Each objective's value per call; RT-1 breaches on its ``breach_at``-th measurement."""

    def __init__(self, breach_at: int) -> None:
        self.breach_at = breach_at
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, objective: slo.Objective) -> slo.Evaluation:
        with self.lock:
            n = self.calls[objective.id] = self.calls.get(objective.id, 0) + 1
        bad = objective.id in ("RT-1", "PD-1") and n >= self.breach_at
        return slo.judge(objective, [20.0 if bad else 0.5], endpoint="scripted")


def test_a_breached_rollback_trigger_ends_every_watch_of_the_group(tmp_path: Path) -> None:
    announced: list[str] = []
    results = gate.watch_group(
        {"RT-1": RT1, "RT-2": RT2},
        Values(breach_at=2),
        FAST,
        stop=WatchStop(tmp_path),
        rollback_triggers=True,
        announce=announced.append,
    )

    rt1, rt2 = results["RT-1"], results["RT-2"]
    assert rt1.verdict == slo.FAIL and rt1.rounds == 2
    assert rt1.reason.startswith("RT-1: breached at t+0 s (round 2, ")
    assert rt2.verdict == watch.STOPPED and rt2.rounds <= 3, rt2.reason  # ended within one interval
    assert "rollback trigger RT-1 breached at " in rt2.reason
    assert "(t+0 s, round 2): 5xx rate 20 % > limit 2 % over 5m" in rt2.reason
    assert len(announced) == 1 and announced[0].startswith("wimmelgate: ROLL BACK: rollback trigger RT-1 breached")
    # other processes of the run see the stop too
    assert (WatchStop(tmp_path).reason() or "").startswith("rollback trigger RT-1 breached")


def test_a_post_deploy_objective_ends_at_its_own_breach_and_the_others_go_on() -> None:
    pd1 = slo.Objective("PD-1", slo.DEFAULT_SLIS["latency_p95_ms"], "<", 2, "5m")
    pd2 = slo.Objective("PD-2", slo.DEFAULT_SLIS["error_rate_5xx_pct"], "<", 2, "5m")
    settings = WatchSettings(duration_s=0.3, interval_s=0.05)
    results = gate.watch_group({"PD-1": pd1, "PD-2": pd2}, Values(breach_at=2), settings)

    assert results["PD-1"].verdict == slo.FAIL and results["PD-1"].rounds == 2
    assert results["PD-2"].verdict == slo.PASS and results["PD-2"].rounds == settings.rounds == 7


def test_each_round_prints_one_line_with_value_limit_round_and_time_left() -> None:
    lines: list[str] = []
    settings = WatchSettings(duration_s=0.1, interval_s=0.05)
    observer = progress.ProgressLines(lines.append, settings, {"RT-1": "5xx rate"})
    gate.watch_group({"RT-1": RT1}, Values(breach_at=3), settings, observer=observer)

    assert [line.split(":")[0] for line in lines] == [
        "wimmelgate watch RT-1 round 1/3 t+0 s",
        "wimmelgate watch RT-1 round 2/3 t+0 s",
        "wimmelgate watch RT-1 round 3/3 t+0 s",
    ]
    assert lines[0].endswith(": 5xx rate 0.5 % (limit <= 2 %) ok, 0 s left")
    assert lines[2].endswith(": 5xx rate 20 % (limit <= 2 %) BREACH, 0 s left")


def test_lines_go_whole_to_the_file_descriptor_redacted() -> None:
    read_end, write_end = os.pipe()
    write = progress.FdLines(write_end, lambda text: text.replace("s3cret", "***"))
    write("first s3cret")
    write("second")
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        assert pipe.read() == "\nfirst ***\nsecond\n"


def test_a_group_is_watched_once_per_run_and_read_back_by_the_others(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, watch.WatchResult]:
        calls.append(1)
        return gate.watch_group({"RT-1": RT1}, Values(breach_at=1), WatchSettings())

    first = watch_once(tmp_path, "triggers", compute, redact=lambda text: text)
    second = watch_once(tmp_path, "triggers", compute)

    assert calls == [1]
    assert second == first
    assert results_path(tmp_path, "triggers").exists()
