"""The watch loop, driven by its own injected clock (the loop's time source, not a mock)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_wimmelgate.errors import Category, CheckFailed, ProbeError
from pytest_wimmelgate.metrics import slo, watch
from pytest_wimmelgate.metrics.watch_stop import WatchStop

LATENCY = slo.Objective("PD-1", slo.DEFAULT_SLIS["latency_p95_ms"], "<", 300, "5m")
ERRORS = slo.Objective("PD-2", slo.DEFAULT_SLIS["error_rate_5xx_pct"], "<", 1, "5m")
NAN = float("nan")


class FakeClock:
    """Monotonic seconds that move only when the loop sleeps or a measurement takes time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(
    clock: FakeClock, script: dict[str, list[float | Exception]], cost_s: float = 0.0
) -> Callable[[slo.Objective], slo.Evaluation]:
    """Each objective returns the next scripted value (NaN = no data; an exception is raised)."""
    cursor = {oid: 0 for oid in script}

    def measure(objective: slo.Objective) -> slo.Evaluation:
        step = script[objective.id][cursor[objective.id]]
        cursor[objective.id] += 1
        clock.now += cost_s
        if isinstance(step, Exception):
            raise step
        return slo.judge(objective, [step], endpoint="scripted")

    return measure


#: 2026-11-28T19:00:00Z, the wall clock of the scripted watches
WALL_START = 1795892400.0


def run(clock: FakeClock, script: dict[str, list[float | Exception]], **kwargs: float) -> watch.WatchResult:
    objectives = [o for o in (LATENCY, ERRORS) if o.id in script]
    params: dict[str, float] = {"interval_s": 60, "duration_s": 300}
    params.update(kwargs)
    cost = params.pop("cost_s", 0.0)
    return watch.watch(
        objectives,
        scripted(clock, script, cost),
        clock=clock,
        sleep=clock.sleep,
        wall_clock=lambda: WALL_START,
        **params,  # type: ignore[arg-type]
    )


def test_all_rounds_pass_over_the_whole_duration() -> None:
    clock = FakeClock()
    result = run(clock, {"PD-1": [120.0] * 6, "PD-2": [0.2] * 6})

    assert result.verdict == slo.PASS
    assert result.rounds == 6
    assert [m.at_s for m in result.measurements[::2]] == [0, 60, 120, 180, 240, 300]
    assert clock.sleeps == [60.0] * 5
    assert result.counts["PD-1"] == {"pass": 6, "fail": 0, "no data": 0, "error": 0}
    assert "2 objective(s) held over 300 s: 6 rounds every 60 s, 12 measurements" in result.reason
    watch.raise_for(result)


def test_first_breach_stops_the_watch_with_its_reason() -> None:
    clock = FakeClock()
    result = run(clock, {"PD-1": [120.0, 130.0, 612.4, 100.0], "PD-2": [0.1] * 4})

    assert result.verdict == slo.FAIL
    assert result.stopped_early
    assert result.rounds == 3
    assert len(result.measurements) == 5  # PD-2 of round 3 is never measured
    assert result.reason.startswith(
        "PD-1: breached at t+120 s (round 3, 2026-11-28T19:02:00Z): p95 latency 612.4 ms > limit 300 ms over 5m"
    )
    assert result.breach is result.measurements[-1]
    assert result.reason.endswith("(1 failed > failure_limit 0)")
    with pytest.raises(CheckFailed) as info:
        watch.raise_for(result)
    assert info.value.category is Category.SLO
    assert len(info.value.evidence["measurements"]) == 5


def test_failure_limit_tolerates_single_failures() -> None:
    clock = FakeClock()
    tolerated = run(clock, {"PD-2": [0.1, 5.0, 0.1, 0.2, 0.1, 0.1]}, failure_limit=1)
    assert tolerated.verdict == slo.PASS
    assert "1 tolerated within limits" in tolerated.reason

    breached = run(FakeClock(), {"PD-2": [0.1, 5.0, 0.1, 5.0, 0.1, 0.1]}, failure_limit=1)
    assert breached.verdict == slo.FAIL
    assert breached.reason.endswith("(2 failed > failure_limit 1)")


def test_no_data_beyond_the_inconclusive_limit_is_no_go() -> None:
    result = run(FakeClock(), {"PD-1": [120.0, NAN, NAN, 120.0]}, inconclusive_limit=1)

    assert result.verdict == slo.NO_DATA
    assert result.category is Category.NO_DATA
    assert result.reason.startswith("PD-1: 2 measurements without data > inconclusive_limit 1 at t+120 s")
    with pytest.raises(CheckFailed) as info:
        watch.raise_for(result)
    assert info.value.category is Category.NO_DATA


def test_consecutive_errors_end_the_watch_with_the_error_category() -> None:
    down = ProbeError(Category.INFRASTRUCTURE, "Prometheus GET x: unreachable (connection refused)")
    result = run(FakeClock(), {"PD-1": [120.0, down, down, down, 120.0, 120.0]}, consecutive_error_limit=2)

    assert result.verdict == slo.ERROR
    assert result.category is Category.INFRASTRUCTURE
    assert "3 consecutive errors > consecutive_error_limit 2" in result.reason
    assert "connection refused" in result.reason
    with pytest.raises(CheckFailed) as info:
        watch.raise_for(result)
    assert info.value.category is Category.INFRASTRUCTURE


def test_errors_between_good_measurements_reset_the_count() -> None:
    down = ProbeError(Category.INFRASTRUCTURE, "timeout")
    result = run(FakeClock(), {"PD-1": [down, down, 120.0, down, down, 120.0]}, consecutive_error_limit=2)
    assert result.verdict == slo.PASS
    assert result.counts["PD-1"]["error"] == 4


def test_never_a_conclusive_measurement_is_no_go_even_within_limits() -> None:
    result = run(FakeClock(), {"PD-1": [NAN] * 6}, inconclusive_limit=10)

    assert result.verdict == slo.NO_DATA
    assert not result.stopped_early
    assert result.reason.startswith("PD-1: no conclusive measurement in 6 rounds over 300 s")

    down = ProbeError(Category.CONFIG, "Prometheus rejected query")
    errors = run(FakeClock(), {"PD-1": [down] * 2}, duration_s=60, consecutive_error_limit=5)
    assert errors.verdict == slo.ERROR
    assert errors.category is Category.CONFIG


def test_slow_rounds_skip_ticks_instead_of_piling_up() -> None:
    clock = FakeClock()
    result = run(clock, {"PD-1": [100.0] * 4}, interval_s=60, duration_s=300, cost_s=90)

    assert [m.at_s for m in result.measurements] == [0, 120, 240]
    assert clock.sleeps == [30.0, 30.0]
    assert result.verdict == slo.PASS


def test_zero_duration_measures_once_and_observer_sees_every_measurement() -> None:
    seen: list[watch.Measurement] = []
    clock = FakeClock()
    result = watch.watch(
        [LATENCY, ERRORS],
        scripted(clock, {"PD-1": [1.0], "PD-2": [0.0]}),
        interval_s=10,
        duration_s=0,
        clock=clock,
        sleep=clock.sleep,
        observer=seen.append,
    )
    assert result.rounds == 1
    assert [m.objective_id for m in seen] == ["PD-1", "PD-2"]
    assert clock.sleeps == []
    table = result.table().splitlines()
    assert table[0].split()[:4] == ["round", "t+s", "check", "verdict"]
    assert len(table) == 3


def test_no_objectives_is_no_go_and_bad_parameters_are_refused() -> None:
    result = watch.watch([], lambda o: pytest.fail("never measured"), interval_s=1, duration_s=1)
    assert result.verdict == slo.NO_DATA
    for bad in ({"interval_s": 0}, {"duration_s": -1}, {"failure_limit": -1}):
        params: dict[str, float] = {"interval_s": 1, "duration_s": 1, **bad}
        with pytest.raises(ValueError):
            watch.watch([LATENCY], lambda o: pytest.fail("never"), **params)  # type: ignore[arg-type]


def test_a_stop_ends_the_watch_between_rounds_as_stopped_never_passed() -> None:
    clock = FakeClock()
    stop = WatchStop()
    measured: list[str] = []

    def measure(objective: slo.Objective) -> slo.Evaluation:
        measured.append(objective.id)
        if len(measured) == 2:
            stop.set("rollback trigger RT-1 breached at 19:00:00Z")
        return slo.judge(objective, [100.0], endpoint="scripted")

    result = watch.watch([LATENCY], measure, interval_s=60, duration_s=300, clock=clock, sleep=clock.sleep, stop=stop)

    assert result.verdict == watch.STOPPED
    assert result.stopped_early and result.rounds == 2 and len(measured) == 2
    assert result.reason == (
        "PD-1: watch stopped at t+120 s after 2 of 6 rounds (2 measurements, all within limits):"
        " rollback trigger RT-1 breached at 19:00:00Z"
    )
    with pytest.raises(watch.WatchStopped, match="watch stopped"):
        watch.raise_for(result)


def test_a_stop_wakes_a_sleeping_watch_at_once() -> None:
    stop = WatchStop()
    threading.Timer(0.2, stop.set, args=("Ctrl-C",)).start()
    started = time.monotonic()
    result = watch.watch(
        [LATENCY], lambda o: slo.judge(o, [1.0], endpoint="x"), interval_s=3600, duration_s=7200, stop=stop
    )
    assert result.verdict == watch.STOPPED and result.rounds == 1
    assert time.monotonic() - started < 60  # woken, not asleep for the hour


def test_a_stop_set_everywhere_reaches_a_watch_of_another_process(tmp_path: Path) -> None:
    mine, theirs = WatchStop(tmp_path, poll_s=0.01), WatchStop(tmp_path, poll_s=0.01)
    assert theirs.reason() is None and theirs.wait(0.01) is None
    mine.set_everywhere("rollback trigger RT-2 breached")
    assert theirs.wait(5) == "rollback trigger RT-2 breached"
    mine.set_everywhere("a second reason never replaces the first")
    assert WatchStop(tmp_path).reason() == "rollback trigger RT-2 breached"


def test_results_survive_the_trip_to_another_process() -> None:
    down = ProbeError(Category.INFRASTRUCTURE, "timeout")
    result = run(FakeClock(), {"PD-1": [120.0, down, 612.0]})
    again = watch.WatchResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert again.measurements[1].evaluation.category is Category.INFRASTRUCTURE


def test_a_round_over_too_few_events_is_inconclusive_and_its_line_names_the_count() -> None:
    """A watch on a fresh environment: the first rounds see a handful of events (no data,
    inconclusive, within ``inconclusive_limit``), later ones enough to judge the rate."""
    from pytest_wimmelgate.metrics.progress import progress_line
    from pytest_wimmelgate.metrics.settings import WatchSettings

    clock = FakeClock()
    counts = iter([2.0, 9.0, 240.0])

    def measure(objective: slo.Objective) -> slo.Evaluation:
        return slo.judge(objective, [50.0 if objective.id == "RT-3" else 0.0], endpoint="e", events=next(counts))

    readiness = slo.Objective("RT-3", slo.DEFAULT_SLIS["readiness_failure_pct"], "<=", 0.5, "5m")
    result = watch.watch(
        [readiness], measure, interval_s=30, duration_s=60, inconclusive_limit=2, clock=clock, sleep=clock.sleep
    )

    assert [m.verdict for m in result.measurements] == [slo.NO_DATA, slo.NO_DATA, slo.FAIL]
    assert result.verdict == slo.FAIL and "50 % > limit 0.5 % over 5m from 240 readiness checks" in result.reason
    line = progress_line(result.measurements[0], WatchSettings(duration_s=60, interval_s=30), "readiness failures")
    assert line == (
        "wimmelgate watch RT-3 round 1/3 t+0 s: readiness failures n/a (limit <= 0.5 %)"
        " no data (2 of the 20 events needed), 60 s left"
    )
    few = lambda objective: slo.judge(objective, [0.0], endpoint="e", events=3.0)  # noqa: E731
    strict = watch.watch([readiness], few, interval_s=30, duration_s=60, clock=clock, sleep=clock.sleep)
    assert strict.verdict == slo.NO_DATA and strict.category is Category.NO_DATA
    assert "1 measurement without data > inconclusive_limit 0" in strict.reason
    assert "only 3 readiness checks over 5m; need at least 20 to judge a rate" in strict.reason
