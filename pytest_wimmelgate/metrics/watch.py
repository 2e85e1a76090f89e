"""Watch mode: re-evaluate objectives every interval for a duration (Argo-Rollouts-like).

Each round measures every objective once. Like an Argo Rollouts ``AnalysisRun`` the
loop counts, per objective, failed measurements (``failure_limit``), inconclusive
ones — here ``no data`` — (``inconclusive_limit``) and consecutive errors
(``consecutive_error_limit``, reset by any measurement that is not an error). It stops
at the first count beyond its limit with that measurement's reason. It also ends red
when an objective never produced a single conclusive measurement (fail closed). Every
measurement is kept, so the whole series can be attached as evidence.

A `WatchStop` ends the loop from outside (another trigger breached, Ctrl-C): the watch
then ends ``stopped`` with what it measured so far, never ``pass``.

The clock and sleep are injectable: they are the loop's own time source, so tests drive
a 30-minute watch in microseconds without mocking the thing being measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError, WimmelgateError
from pytest_wimmelgate.metrics.slo import ERROR, FAIL, NO_DATA, PASS, Evaluation, Objective
from pytest_wimmelgate.metrics.watch_stop import WatchStop

#: a watch ended from outside before its duration was up (not a verdict of an objective)
STOPPED = "stopped"


@dataclass(frozen=True)
class Measurement:
    """One evaluation of one objective, stamped with its offset from the watch start."""

    round: int
    at_s: float
    evaluation: Evaluation
    #: wall-clock time of the round's start (epoch seconds)
    wall_s: float = 0.0

    @property
    def objective_id(self) -> str:
        return self.evaluation.objective_id

    @property
    def verdict(self) -> str:
        return self.evaluation.verdict


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    no_data: int = 0
    errors: int = 0
    consecutive_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {PASS: self.passed, FAIL: self.failed, NO_DATA: self.no_data, ERROR: self.errors}


@dataclass(frozen=True)
class WatchResult:
    """Verdict of a watch (``pass`` | ``fail`` | ``no data`` | ``error`` | ``stopped``) and its series."""

    verdict: str
    reason: str
    measurements: tuple[Measurement, ...]
    rounds: int
    elapsed_s: float
    stopped_early: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    category: Category | None = None
    limits: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    @property
    def breach(self) -> Measurement | None:
        """The measurement that ended the watch red (a fail beyond the limit), if any."""
        if self.verdict != FAIL or not self.stopped_early or not self.measurements:
            return None
        return self.measurements[-1]

    def table(self) -> str:
        """The measurements as a fixed-width text table (an Allure attachment)."""
        lines = [f"{'round':>5}  {'t+s':>8}  {'check':<8} {'verdict':<8} {'value':>12}  reason"]
        for m in self.measurements:
            ev = m.evaluation
            value = "" if ev.value is None else f"{ev.value:.4g}"
            lines.append(f"{m.round:>5}  {m.at_s:>8.1f}  {ev.objective_id:<8} {ev.verdict:<8} {value:>12}  {ev.reason}")
        return "\n".join(lines)

    def evidence(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "rounds": self.rounds,
            "elapsed_s": round(self.elapsed_s, 3),
            "stopped_early": self.stopped_early,
            "limits": dict(self.limits),
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "measurements": [
                {"round": m.round, "at_s": round(m.at_s, 3), "at": iso_time(m.wall_s), **m.evaluation.evidence()}
                for m in self.measurements
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready data (`from_dict` reads it back in another process)."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "rounds": self.rounds,
            "elapsed_s": self.elapsed_s,
            "stopped_early": self.stopped_early,
            "counts": self.counts,
            "category": str(self.category) if self.category else None,
            "limits": self.limits,
            "measurements": [
                {"round": m.round, "at_s": m.at_s, "wall_s": m.wall_s, "evaluation": m.evaluation.to_dict()}
                for m in self.measurements
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchResult:
        return cls(
            verdict=str(data["verdict"]),
            reason=str(data["reason"]),
            measurements=tuple(
                Measurement(
                    int(m["round"]), float(m["at_s"]), Evaluation.from_dict(m["evaluation"]), float(m["wall_s"])
                )
                for m in data["measurements"]
            ),
            rounds=int(data["rounds"]),
            elapsed_s=float(data["elapsed_s"]),
            stopped_early=bool(data["stopped_early"]),
            counts={k: dict(v) for k, v in dict(data["counts"]).items()},
            category=Category(data["category"]) if data.get("category") else None,
            limits=dict(data["limits"]),
        )


def iso_time(epoch_s: float) -> str:
    """``2026-12-02T17:30:41Z``."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def watch(
    objectives: Sequence[Objective],
    measure: Callable[[Objective], Evaluation],
    *,
    interval_s: float,
    duration_s: float,
    failure_limit: int = 0,
    inconclusive_limit: int = 0,
    consecutive_error_limit: int = 4,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
    observer: Callable[[Measurement], None] | None = None,
    stop: WatchStop | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> WatchResult:
    """Measure every objective each ``interval_s`` for ``duration_s``; stop at a breach.

    Rounds start at t = 0, interval, 2·interval, … while t ≤ duration; a round that runs
    past the next tick makes the loop skip that tick (rounds never overlap or pile up).
    ``measure`` normally is ``lambda o: slo.evaluate(o, url, timeout=...)``; a
    `WimmelgateError` it raises is recorded as a measurement of its category (SLO → fail,
    no data → no data, anything else → error). ``observer`` sees each measurement as it
    happens (live progress). ``stop`` ends the watch after its first round, between
    rounds, and wakes it from its sleep (default sleep: ``stop.wait``, else `time.sleep`).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    if duration_s < 0:
        raise ValueError("duration_s must not be negative")
    for name, limit in (
        ("failure_limit", failure_limit),
        ("inconclusive_limit", inconclusive_limit),
        ("consecutive_error_limit", consecutive_error_limit),
    ):
        if limit < 0:
            raise ValueError(f"{name} must not be negative")
    limits: dict[str, float] = {
        "interval_s": interval_s,
        "duration_s": duration_s,
        "failure_limit": failure_limit,
        "inconclusive_limit": inconclusive_limit,
        "consecutive_error_limit": consecutive_error_limit,
    }
    if not objectives:
        return WatchResult(
            NO_DATA,
            "nothing to watch: no objectives configured",
            (),
            0,
            0.0,
            False,
            category=Category.NO_DATA,
            limits=limits,
        )

    start = clock()
    wall_start = wall_clock()
    tallies = {o.id: _Tally() for o in objectives}
    measurements: list[Measurement] = []
    rounds = 0
    last_tick = 0
    stop_at: tuple[str, str, Category] | None = None
    stopped_by: str | None = None

    def pause(seconds: float) -> str | None:
        if sleep is not None:
            sleep(seconds)
            return stop.reason() if stop is not None else None
        if stop is not None:
            return stop.wait(seconds)
        time.sleep(seconds)
        return None

    while stop_at is None:
        # every objective is measured at least once: a stop ends a watch between rounds
        stopped_by = stop.reason() if stop is not None and rounds > 0 else None
        if stopped_by is not None:
            break
        round_start = clock()
        round_wall = wall_start + (round_start - start)
        for objective in objectives:
            evaluation = _measure_once(objective, measure)
            m = Measurement(rounds, round_start - start, evaluation, round_wall)
            measurements.append(m)
            if observer is not None:
                observer(m)
            stop_at = _count(tallies[objective.id], m, failure_limit, inconclusive_limit, consecutive_error_limit)
            if stop_at is not None:
                break
        rounds += 1
        if stop_at is not None:
            break
        # Rounds keep to the grid start + k·interval; ticks a slow round overran are skipped.
        now = clock()
        ticks = max(math.floor((now - start) / interval_s + 1e-9) + 1, last_tick + 1)
        if ticks * interval_s > duration_s + 1e-9:
            break
        last_tick = ticks
        delay = start + ticks * interval_s - now
        stopped_by = pause(delay) if delay > 0 else (stop.reason() if stop is not None else None)
        if stopped_by is not None:
            break

    elapsed = clock() - start
    counts = {oid: tally.as_dict() for oid, tally in tallies.items()}
    common: dict[str, Any] = dict(
        measurements=tuple(measurements),
        rounds=rounds,
        elapsed_s=elapsed,
        counts=counts,
        limits=limits,
    )
    if stop_at is not None:
        verdict, reason, category = stop_at
        return WatchResult(verdict, reason, stopped_early=True, category=category, **common)
    if stopped_by is not None:
        ids = ", ".join(o.id for o in objectives)
        held = (
            "all within limits"
            if all(t.failed + t.no_data + t.errors == 0 for t in tallies.values())
            else ("none beyond its limits")
        )
        planned = int(duration_s / interval_s + 1e-9) + 1
        if measurements:
            done = f"after {rounds} of {planned} rounds ({len(measurements)} measurement"
            done += f"{'s' if len(measurements) != 1 else ''}, {held})"
        else:
            done = "before its first measurement"
        reason = f"{ids}: watch stopped at t+{elapsed:.0f} s {done}: {stopped_by}"
        return WatchResult(STOPPED, reason, stopped_early=True, **common)

    never = [oid for oid, tally in tallies.items() if tally.passed == 0 and tally.failed == 0]
    if never:
        last = {m.objective_id: m for m in measurements}
        oid = never[0]
        tally = tallies[oid]
        verdict = ERROR if tally.no_data == 0 else NO_DATA
        category = last[oid].evaluation.category or Category.INFRASTRUCTURE if verdict == ERROR else Category.NO_DATA
        reason = (
            f"{oid}: no conclusive measurement in {rounds} rounds over {elapsed:.0f} s"
            f" ({tally.no_data} no data, {tally.errors} errors); last: "
            f"{last[oid].evaluation.reason}"
        )
        return WatchResult(verdict, reason, stopped_early=False, category=category, **common)

    tolerated = sum(t.failed + t.no_data + t.errors for t in tallies.values())
    reason = (
        f"{len(objectives)} objective(s) held over {elapsed:.0f} s: {rounds} rounds every"
        f" {interval_s:g} s, {len(measurements)} measurements"
        + (f", {tolerated} tolerated within limits" if tolerated else "")
        + ": "
        + "; ".join(o.describe() for o in objectives)
    )
    return WatchResult(PASS, reason, stopped_early=False, **common)


class WatchStopped(WimmelgateError):
    """The watch was ended from outside before it finished: neither passed nor failed."""


def raise_for(result: WatchResult) -> None:
    """Return on ``pass``; raise `WatchStopped` for ``stopped``; otherwise `CheckFailed`
    (SLO, no data, or the error's category)."""
    __tracebackhide__ = True
    if result.verdict == PASS:
        return
    if result.verdict == STOPPED:
        raise WatchStopped(result.reason)
    category = result.category or {FAIL: Category.SLO, NO_DATA: Category.NO_DATA}.get(
        result.verdict, Category.INFRASTRUCTURE
    )
    raise CheckFailed(category, result.reason, result.evidence())


def _count(
    tally: _Tally,
    m: Measurement,
    failure_limit: int,
    inconclusive_limit: int,
    consecutive_error_limit: int,
) -> tuple[str, str, Category] | None:
    ev = m.evaluation
    at = f"at t+{m.at_s:.0f} s (round {m.round + 1}" + (f", {iso_time(m.wall_s)})" if m.wall_s else ")")
    if ev.verdict == ERROR:
        tally.errors += 1
        tally.consecutive_errors += 1
        if tally.consecutive_errors > consecutive_error_limit:
            return (
                ERROR,
                f"{ev.objective_id}: {tally.consecutive_errors} consecutive errors >"
                f" consecutive_error_limit {consecutive_error_limit} {at}: {ev.reason}",
                ev.category or Category.INFRASTRUCTURE,
            )
        return None
    tally.consecutive_errors = 0
    if ev.verdict == FAIL:
        tally.failed += 1
        if tally.failed > failure_limit:
            return (
                FAIL,
                f"{ev.objective_id}: breached {at}: {ev.reason}"
                f" ({tally.failed} failed > failure_limit {failure_limit})",
                Category.SLO,
            )
    elif ev.verdict == NO_DATA:
        tally.no_data += 1
        if tally.no_data > inconclusive_limit:
            return (
                NO_DATA,
                f"{ev.objective_id}: {tally.no_data} measurement{'s' if tally.no_data != 1 else ''} without data >"
                f" inconclusive_limit {inconclusive_limit} {at}: {ev.reason}",
                Category.NO_DATA,
            )
    else:
        tally.passed += 1
    return None


def _measure_once(objective: Objective, measure: Callable[[Objective], Evaluation]) -> Evaluation:
    try:
        return measure(objective)
    except WimmelgateError as exc:
        if isinstance(exc, CheckFailed):
            category, why = exc.category, exc.reason
        else:
            category = Category.CONFIG if isinstance(exc, ConfigError) else Category.INFRASTRUCTURE
            why = str(exc)
        verdict = {Category.SLO: FAIL, Category.NO_DATA: NO_DATA}.get(category, ERROR)
        return Evaluation(
            objective_id=objective.id,
            sli=objective.sli.name,
            verdict=verdict,
            value=None,
            limit=objective.limit,
            comparison=objective.comparison,
            window=objective.window,
            unit=objective.sli.unit,
            query=objective.query,
            endpoint="",
            reason=why if verdict != ERROR else f"{objective.sli.label}: cannot evaluate: {why}",
            category=category if verdict == ERROR else None,
        )
