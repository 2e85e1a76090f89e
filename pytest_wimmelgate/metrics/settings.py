"""The ``metrics`` section as frozen settings, parsed once at start, and the watch options.

`parse_metrics(node, source)` validates the whole section (SLIs, objectives, triggers,
watch, sampling) and raises `ConfigError` with the file and key path on the first
problem; `apply_watch_options` lays ``--wg-watch``/``--wg-watch-interval`` over it and
names the option on a bad value. Values from ``${VAR}`` placeholders arrive as texts, so
numbers written as texts (``"5"``) are accepted wherever a number is needed, and a watch
duration may be a plain number of seconds.

Objectives and triggers (``metrics.objectives``/``metrics.triggers``), keyed by check id
or by SLI name::

    PD-1: {sli: latency_p95_ms, comparison: "<", limit: 400, window: 5m}
    PD-3: {sli: readiness_failure_pct, comparison: "<", limit: 0.5, window: 5m, min_events: 200}
    PD-2: {sli: error_rate_5xx_pct, comparison: "<", limit: 2, window: 5m,
           query: '100 * sum(rate(my_5xx[$window])) / sum(rate(my_all[$window]))',
           events: 'sum(increase(my_all[$window]))'}

``query`` overrides the SLI's PromQL; ``$window`` in it is replaced by the window. A ratio
SLI counts its events (``events``, the denominator's increase in the window) and is no
data below ``min_events`` (default `slo.DEFAULT_MIN_EVENTS`); a ``query`` of your own
counts nothing unless ``events`` comes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_wimmelgate.config import fields
from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.metrics import slo
from pytest_wimmelgate.metrics.slo import COMPARISONS, DEFAULT_SLIS, DEFAULT_WINDOW, SLI, Objective, parse_duration

GROUPS = {"objectives": "PD", "triggers": "RT"}
SECTION_KEYS = ("prometheus_url", "timeout_s", "slis", "objectives", "triggers", "watch", "sampling")
WATCH_KEYS = ("duration", "interval", "failure_limit", "inconclusive_limit", "consecutive_error_limit")
SAMPLING_KEYS = ("requests", "concurrency", "rate_per_s", "max_duration_s", "buckets_ms")
#: bucket bounds of the reference backend's ``http_request_duration_seconds``, in ms
DEFAULT_BUCKETS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 200, 300, 400, 500, 750, 1000, 2000, 5000)
DURATION_HINT = "a duration like 0, 30s, 10m or 1h (a plain number means seconds)"


@dataclass(frozen=True)
class WatchSettings:
    """Argo-Rollouts-like measurement settings (``metrics.watch``, ``--wg-watch``)."""

    duration_s: float = 0.0
    interval_s: float = 30.0
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4

    @property
    def rounds(self) -> int:
        """Rounds a watch that never stops early measures (t = 0, interval, … ≤ duration)."""
        return int(self.duration_s / self.interval_s + 1e-9) + 1

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str) -> WatchSettings:
        """``metrics.watch`` (kept for callers that hold the raw mapping)."""
        return _watch(mapping, source, "metrics.watch")


@dataclass(frozen=True)
class SamplingSettings:
    """Active sampling without Prometheus (``metrics.sampling``).

    ``requests`` go out at ``rate_per_s`` in total (0: as fast as ``concurrency`` allows),
    bounded by ``max_duration_s``; latency percentiles are read through ``buckets_ms``,
    the server histogram's bucket bounds, so a sampled p95 means what Prometheus' does.
    """

    requests: int = 100
    concurrency: int = 4
    rate_per_s: float = 50.0
    max_duration_s: float = 60.0
    buckets_ms: tuple[float, ...] = DEFAULT_BUCKETS_MS


@dataclass(frozen=True)
class MetricSettings:
    """The parsed ``metrics`` section."""

    prometheus_url: str | None = None
    timeout_s: float = 5.0
    objectives: Mapping[str, slo.Objective] = field(default_factory=dict)
    triggers: Mapping[str, slo.Objective] = field(default_factory=dict)
    watch: WatchSettings = field(default_factory=WatchSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    source: str = "environment"

    def group(self, name: str) -> Mapping[str, slo.Objective]:
        """``objectives`` or ``triggers``, keyed by check id."""
        if name not in GROUPS:
            raise KeyError(name)
        return dict(self.objectives if name == "objectives" else self.triggers)


def parse_metrics(node: Any, source: str) -> MetricSettings:
    """The ``metrics`` section (already resolved) as `MetricSettings`; `ConfigError` on the first problem."""
    if node is None:
        node = {}
    if not isinstance(node, Mapping):
        raise ConfigError(source, "metrics", "expected a mapping")
    fields.check_keys(node, SECTION_KEYS, source, "metrics")
    url = node.get("prometheus_url")
    if url is not None and not isinstance(url, str):
        raise ConfigError(source, "metrics.prometheus_url", "expected a URL or an empty value")
    prometheus_url = url.strip() if isinstance(url, str) and url.strip() else None
    if prometheus_url and not prometheus_url.startswith(("http://", "https://")):
        raise ConfigError(source, "metrics.prometheus_url", "expected an absolute http/https URL")
    timeout = node.get("timeout_s", 5)
    timeout_s = fields.number(timeout, source, "metrics.timeout_s", "expected a number of seconds above 0", above=0)
    slis = slis_from_mapping(node.get("slis"), source=source)
    groups: dict[str, dict[str, slo.Objective]] = {}
    for group in GROUPS:
        raw = node.get(group)
        if raw is None:
            groups[group] = {}
            continue
        found = objectives_from_mapping(raw, source=source, key_path=f"metrics.{group}", slis=slis)
        groups[group] = {o.id: o for o in found}
    return MetricSettings(
        prometheus_url=prometheus_url,
        timeout_s=timeout_s,
        objectives=groups["objectives"],
        triggers=groups["triggers"],
        watch=_watch(node.get("watch") or {}, source, "metrics.watch"),
        sampling=_sampling(node.get("sampling") or {}, source, "metrics.sampling"),
        source=source,
    )


def apply_watch_options(
    settings: MetricSettings, duration: str | None, interval: str | None, source: str = "command line"
) -> MetricSettings:
    """``settings`` with ``--wg-watch``/``--wg-watch-interval`` laid over ``metrics.watch``.

    ``None`` or ``""`` keeps the environment's value. A bad value raises `ConfigError`
    naming ``source`` (where the value came from) and the option.
    """
    watch = settings.watch
    if duration not in (None, ""):
        watch = replace(watch, duration_s=_duration_option(duration, source, "--wg-watch", allow_zero=True))
    if interval not in (None, ""):
        watch = replace(watch, interval_s=_duration_option(interval, source, "--wg-watch-interval", allow_zero=False))
    return replace(settings, watch=watch)


def parse_watch_duration(value: Any) -> float | None:
    """Seconds from ``30s``/``10m``/``1h30m``/``0`` or a plain number of seconds; None if neither."""
    number = fields.as_number(value)
    if number is not None:
        return number if number >= 0 else None
    if not isinstance(value, str):
        return None
    try:
        return slo.parse_duration(value.strip())
    except ValueError:
        return None


def _duration_option(value: str, source: str, option: str, *, allow_zero: bool) -> float:
    seconds = parse_watch_duration(value)
    if seconds is None or (seconds <= 0 and not allow_zero):
        expected = DURATION_HINT if allow_zero else "a positive duration like 5s, 30s or 1m"
        source = source or option
        raise ConfigError(source, "" if source == option else option, f"expected {expected}")
    return seconds


def _watch(mapping: Any, source: str, path: str) -> WatchSettings:
    if not isinstance(mapping, Mapping):
        raise ConfigError(source, path, "expected a mapping with duration, interval and limits")
    fields.check_keys(mapping, WATCH_KEYS, source, path)
    duration = parse_watch_duration(mapping.get("duration", 0))
    if duration is None:
        raise ConfigError(source, f"{path}.duration", f"expected {DURATION_HINT}")
    interval = parse_watch_duration(mapping.get("interval", "30s"))
    if interval is None or interval <= 0:
        raise ConfigError(source, f"{path}.interval", "expected a positive duration like 30s or 1m")

    def limit(key: str, default: int) -> int:
        return fields.whole_number(
            mapping.get(key, default), source, f"{path}.{key}", "expected a whole number of at least 0", minimum=0
        )

    return WatchSettings(
        duration_s=duration,
        interval_s=interval,
        failure_limit=limit("failure_limit", 0),
        inconclusive_limit=limit("inconclusive_limit", 0),
        consecutive_error_limit=limit("consecutive_error_limit", 4),
    )


def _sampling(mapping: Any, source: str, path: str) -> SamplingSettings:
    if not isinstance(mapping, Mapping):
        raise ConfigError(source, path, "expected a mapping with requests, concurrency, rate_per_s")
    fields.check_keys(mapping, SAMPLING_KEYS, source, path)
    default = SamplingSettings()
    requests = fields.whole_number(
        mapping.get("requests", default.requests),
        source,
        f"{path}.requests",
        "expected a whole number of at least 1",
        minimum=1,
    )
    concurrency = fields.whole_number(
        mapping.get("concurrency", default.concurrency),
        source,
        f"{path}.concurrency",
        "expected a whole number from 1 to 64",
        minimum=1,
        maximum=64,
    )
    rate = fields.number(
        mapping.get("rate_per_s", default.rate_per_s),
        source,
        f"{path}.rate_per_s",
        "expected requests per second (0: as fast as possible)",
        above=-1e-12,
    )
    max_duration = fields.number(
        mapping.get("max_duration_s", default.max_duration_s),
        source,
        f"{path}.max_duration_s",
        "expected a number of seconds above 0",
        above=0,
    )
    buckets = mapping.get("buckets_ms", list(default.buckets_ms))
    if not isinstance(buckets, list) or not buckets:
        raise ConfigError(source, f"{path}.buckets_ms", "expected a list of bucket bounds in ms, ascending")
    bounds = [fields.as_number(b) for b in buckets]
    if any(b is None or b <= 0 for b in bounds) or bounds != sorted(set(bounds)):  # type: ignore[type-var]
        raise ConfigError(source, f"{path}.buckets_ms", "expected a list of bucket bounds in ms, ascending")
    return SamplingSettings(
        requests=requests,
        concurrency=concurrency,
        rate_per_s=rate,
        max_duration_s=max_duration,
        buckets_ms=tuple(float(b) for b in bounds if b is not None),
    )


SLI_KEYS = ("query", "unit", "title", "events")
OBJECTIVE_KEYS = ("sli", "comparison", "limit", "window", "min_events", "query", "events", "unit", "title")
EVENTS_HINT = "PromQL of how many events the ratio is over in $window, e.g. 'sum(increase(my_requests_total[$window]))'"


def slis_from_mapping(
    mapping: Mapping[str, Any] | None,
    *,
    source: str = "environment",
    key_path: str = "metrics.slis",
) -> dict[str, SLI]:
    """The default SLIs plus/overridden by ``{name: {query, unit, title, events}}``."""
    slis = dict(DEFAULT_SLIS)
    if mapping is None:
        return slis
    if not isinstance(mapping, Mapping):
        raise ConfigError(source, key_path, "a mapping of SLI name to {query, unit, title, events}")
    for name, entry in mapping.items():
        here = f"{key_path}.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with query, unit and optional title and events")
        fields.check_keys(entry, SLI_KEYS, source, here)
        base = slis.get(str(name))
        unit = _opt_str(entry, "unit", source, here)
        title = _opt_str(entry, "title", source, here)
        if base is None and (entry.get("query") is None or unit is None):
            raise ConfigError(source, here, "a new SLI needs both query and unit")
        slis[str(name)] = _sli(str(name), base, entry, source, here, unit=unit, title=title)
    return slis


def objectives_from_mapping(
    mapping: Mapping[str, Any],
    *,
    source: str = "environment",
    key_path: str = "metrics.objectives",
    slis: Mapping[str, SLI] | None = None,
) -> list[Objective]:
    """Validate ``{id: {sli, comparison, limit, window, min_events?, query?, events?, unit?, title?}}``.

    ``sli`` defaults to the id when the id names a known SLI. Any bad entry raises
    `ConfigError(source, key_path, expected)` naming the exact key.
    """
    known = dict(DEFAULT_SLIS if slis is None else slis)
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError(source, key_path, "a non-empty mapping of check id to objective")
    objectives: list[Objective] = []
    for oid, entry in mapping.items():
        here = f"{key_path}.{oid}"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, here, "a mapping with sli, comparison, limit, window")
        fields.check_keys(entry, OBJECTIVE_KEYS, source, here)
        name = entry.get("sli", oid if str(oid) in known else None)
        if not isinstance(name, str) or not name:
            raise ConfigError(source, f"{here}.sli", f"an SLI name, one of {sorted(known)}")
        base = known.get(name)
        if base is None and entry.get("query") is None:
            raise ConfigError(source, f"{here}.sli", f"one of {sorted(known)}, or give a query for {name!r}")
        unit = _opt_str(entry, "unit", source, here)
        title = _opt_str(entry, "title", source, here)
        sli = _sli(name, base, entry, source, here, unit=unit, title=title if title is not None or base else name)
        comparison = entry.get("comparison")
        if comparison not in COMPARISONS:
            raise ConfigError(source, f"{here}.comparison", f"one of {', '.join(COMPARISONS)}")
        limit = fields.as_number(entry.get("limit"))
        if limit is None:
            raise ConfigError(source, f"{here}.limit", "a finite number")
        window = entry.get("window", DEFAULT_WINDOW)
        try:
            if not isinstance(window, str) or parse_duration(window.strip()) <= 0:
                raise ValueError("zero window")
        except ValueError:
            raise ConfigError(source, f"{here}.window", "a positive Prometheus duration such as 30s, 5m, 1h") from None
        min_events = _min_events(entry, sli, source, here)
        objectives.append(Objective(str(oid), sli, str(comparison), float(limit), window.strip(), min_events))
    return objectives


def _sli(
    name: str,
    base: SLI | None,
    entry: Mapping[str, Any],
    source: str,
    here: str,
    *,
    unit: str | None,
    title: str | None,
) -> SLI:
    """``base`` with the entry's query, unit, title and events; a query of its own drops
    the base's count of events (it counted another metric) unless ``events`` is given."""
    query = _opt_str(entry, "query", source, here)
    events = _opt_str(entry, "events", source, here)
    if events is None and query is None and base is not None:
        events = base.events
    return SLI(
        name,
        query if query is not None else (base.promql if base else ""),
        unit if unit is not None else (base.unit if base else ""),
        title if title is not None else (base.title if base else ""),
        events or "",
        base.events_label if base is not None and events else "events",
    )


def _min_events(entry: Mapping[str, Any], sli: SLI, source: str, here: str) -> int | None:
    if entry.get("min_events") is None:
        return None
    if not sli.events:
        raise ConfigError(
            source,
            f"{here}.min_events",
            f"an SLI that counts its events: {sli.name} counts none; give events ({EVENTS_HINT})",
        )
    return fields.whole_number(
        entry.get("min_events"), source, f"{here}.min_events", "a whole number of at least 1", minimum=1
    )


def _opt_str(entry: Mapping[str, Any], key: str, source: str, here: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(source, f"{here}.{key}", "a non-empty string")
    return value
