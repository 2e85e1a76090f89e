"""Metric gates (PD-*, RT-*, RV-4): objectives from the environment, measured by
Prometheus or, where none is configured, by active sampling of the backend.

Every objective of a group is watched in its own thread for the same duration, so the
whole group takes one window. A post-deploy objective ends at its own first breach; a
rollback trigger that breaches ends every watch of the run at once (`WatchStop`), so
On-Call hears "roll back" within one interval. Ctrl-C ends the watches within
``INTERRUPT_GRACE_S``. A run's own faults never count against it (`RunFaults`).

Start-up API for the typed configuration: `parse_metrics` (the ``metrics`` section)
and `apply_watch_options` (``--wg-watch``, ``--wg-watch-interval``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.metrics import sampler, slo, watch
from pytest_wimmelgate.metrics.fault_window import RunFaults
from pytest_wimmelgate.metrics.sampled_requests import SamplingPlan
from pytest_wimmelgate.metrics.settings import (
    GROUPS,
    MetricSettings,
    SamplingSettings,
    WatchSettings,
    apply_watch_options,
    parse_metrics,
)
from pytest_wimmelgate.metrics.watch_stop import WatchStop

__all__ = [
    "GROUPS",
    "MetricSettings",
    "MetricSource",
    "SamplingSettings",
    "WatchSettings",
    "apply_watch_options",
    "parse_metrics",
    "watch_group",
]

SAMPLED_SLIS = ("latency_p95_ms", "error_rate_5xx_pct", "readiness_failure_pct")
INTERRUPT_GRACE_S = 1.0
#: a sample that ended this recently serves the other objectives of the same round
SHARED_SAMPLE_S = 1.0


@dataclass
class MetricSource:
    """Where values come from: Prometheus, or active sampling along ``plan``."""

    settings: MetricSettings
    plan: SamplingPlan | None = None
    faults: RunFaults | None = None
    #: its interrupt (Ctrl-C) cuts short a sample under way
    stop: WatchStop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last: tuple[float, sampler.SampleResult] | None = field(default=None, repr=False)

    @property
    def mode(self) -> str:
        return "prometheus" if self.settings.prometheus_url else "active sampling"

    def measure(self, objective: slo.Objective) -> slo.Evaluation:
        if self.settings.prometheus_url:
            return self._queried(objective, self.settings.prometheus_url)
        return self._sampled(objective)

    # -- Prometheus --------------------------------------------------------------------
    def _queried(self, objective: slo.Objective, url: str) -> slo.Evaluation:
        timeout = self.settings.timeout_s
        if self.faults is None:
            return slo.evaluate(objective, url, timeout=timeout)
        clean = self.faults.clean_window(slo.parse_duration(objective.window))
        if not clean.moved:
            return slo.evaluate(objective, url, timeout=timeout)
        observed = f"over {objective.window} ending {watch.iso_time(clean.end)}"
        return slo.evaluate(objective, url, timeout=timeout, now=clean.end, observed=observed, note=clean.note)

    # -- active sampling ---------------------------------------------------------------
    def _sampled(self, objective: slo.Objective) -> slo.Evaluation:
        if objective.sli.name not in SAMPLED_SLIS or self.plan is None:
            unmeasured = slo.judge(objective, [], endpoint="active sampling", query="(not measured)")
            reason = (
                f"{objective.sli.label}: no data: {objective.sli.name} needs Prometheus (metrics.prometheus_url),"
                f" none is configured; active sampling measures only {', '.join(SAMPLED_SLIS)}"
            )
            return replace(unmeasured, reason=reason)
        result = self.sample()
        value = result.sli_values()[objective.sli.name]
        readiness_only = objective.sli.name == "readiness_failure_pct"
        notes = [result.notes()] if result.notes() else []
        if objective.sli.name == "latency_p95_ms" and result.p95_exact_ms is not None:
            notes.insert(
                0,
                f"p95 read through the server's histogram buckets like Prometheus, exact {result.p95_exact_ms:.1f} ms",
            )
        events = result.sli_events().get(objective.sli.name)
        return slo.judge(
            objective,
            [] if value is None else [float(value)],
            endpoint=self.plan.base_url,
            query=f"active sampling: {', '.join(result.per_label()) or 'nothing sent'}",
            raw=result.evidence(),
            observed=result.observed(readiness_only=readiness_only),
            where=f"active sampling of {self.plan.base_url}, no Prometheus configured",
            note="; ".join(notes),
            events=None if events is None else float(events),
            min_events=None if events is None else objective.min_events or slo.DEFAULT_MIN_EVENTS,
        )

    def sample(self) -> sampler.SampleResult:
        """One sample along the plan; objectives measured in the same round share it."""
        asked = time.monotonic()
        with self._lock:
            if self._last is not None and self._last[0] >= asked - SHARED_SAMPLE_S:
                return self._last[1]
            result = self._take_sample()
            self._last = (time.monotonic(), result)
            return result

    def _take_sample(self) -> sampler.SampleResult:
        assert self.plan is not None
        conf = self.settings.sampling
        if not self.plan.targets:
            return sampler.SampleResult((), (), 0.0, self.settings.timeout_s, not_sent=dict(self.plan.not_planned))
        result = sampler.sample(
            self.plan.targets,
            requests=conf.requests,
            concurrency=conf.concurrency,
            timeout=self.settings.timeout_s,
            rate_per_s=conf.rate_per_s,
            max_duration_s=conf.max_duration_s,
            buckets_ms=conf.buckets_ms,
            faults=self.faults,
            stop=None if self.stop is None else self._stopped,
        )
        return replace(result, not_sent=dict(self.plan.not_planned))

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.interrupted


def objectives(env: Environment, group: str) -> dict[str, slo.Objective]:
    """The objectives of ``metrics.<group>`` keyed by check id (until start-up calls `parse_metrics`)."""
    return dict(parse_metrics(env.get("metrics"), env.source).group(group))


def watch_group(
    targets: Mapping[str, slo.Objective],
    measure: Callable[[slo.Objective], slo.Evaluation],
    settings: WatchSettings,
    *,
    stop: WatchStop | None = None,
    observer: Callable[[watch.Measurement], None] | None = None,
    rollback_triggers: bool = False,
    announce: Callable[[str], None] | None = None,
) -> dict[str, watch.WatchResult]:
    """One watch per objective, all at once; each objective's result.

    ``rollback_triggers``: the first breach ends every watch of the run (``stop`` set
    everywhere) and is announced. Ctrl-C sets ``stop``, waits at most
    ``INTERRUPT_GRACE_S`` for the watches and re-raises: the threads are daemons, so a
    measurement still under way never holds the process.
    """
    if not targets:
        return {}
    stop = stop if stop is not None else WatchStop()
    results: dict[str, watch.WatchResult] = {}
    failures: list[BaseException] = []

    def run(objective: slo.Objective) -> None:
        try:
            result = watch.watch(
                [objective],
                measure,
                interval_s=settings.interval_s,
                duration_s=settings.duration_s,
                failure_limit=settings.failure_limit,
                inconclusive_limit=settings.inconclusive_limit,
                consecutive_error_limit=settings.consecutive_error_limit,
                stop=stop,
                observer=observer,
            )
        except BaseException as error:  # handed to the caller's thread
            failures.append(error)
            stop.set(f"{objective.id}: the watch failed: {error!r}")
            return
        results[objective.id] = result
        breach = result.breach
        if rollback_triggers and breach is not None:
            why = breach_line(objective.id, breach)
            stop.set_everywhere(why)
            if announce is not None:
                announce(f"wimmelgate: ROLL BACK: {why}; ending the watch")

    threads = [
        threading.Thread(target=run, args=(objective,), name=f"wimmelgate-watch-{oid}", daemon=True)
        for oid, objective in targets.items()
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.interrupt()
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        raise
    if failures:
        raise failures[0]
    return {oid: results[oid] for oid in targets}


def breach_line(check_id: str, breach: watch.Measurement) -> str:
    """``rollback trigger RT-1 breached at 2026-…Z (t+0 s, round 1): 5xx rate 16.9 % > limit 2 % over 5m``."""
    summary = breach.evaluation.reason.split(" (query ", 1)[0].split(" (active sampling", 1)[0]
    return (
        f"rollback trigger {check_id} breached at {watch.iso_time(breach.wall_s)}"
        f" (t+{breach.at_s:.0f} s, round {breach.round + 1}): {summary}"
    )
