"""Fault switches of the sandbox backend, parsed from ``WIMMELGATE_SANDBOX_FAULTS``.

The spec is a comma list of ``key=value``; an unknown key or a bad value is an error
(the backend refuses to start), so a typo never silently yields a healthy backend.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, fields

FAULTS_ENV = "WIMMELGATE_SANDBOX_FAULTS"


class FaultSpecError(ValueError):
    """The fault spec is malformed; the message is one line naming the bad item."""


@dataclass(frozen=True)
class Faults:
    """Which faults the backend injects (rates hit evenly spaced events, see `EvenlySpaced`).

    ``error_rate``: fraction of API requests (not /metrics, /health, /readiness) that
    answer 500. ``latency_ms``: delay added to API requests and /readiness.
    ``push_failure_rate``: fraction of push deliveries that end "failed".
    ``readiness_flap_rate``: fraction of /readiness answers that are 503.
    ``readiness_ignores_db``: /readiness does not check MongoDB (a bug gates must catch).
    """

    error_rate: float = 0.0
    latency_ms: float = 0.0
    push_failure_rate: float = 0.0
    readiness_flap_rate: float = 0.0
    readiness_ignores_db: bool = False

    def spec(self) -> str:
        """The canonical spec string of the active faults ("" when none)."""
        items = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value == getattr(Faults, field.name):
                continue
            text = ("1" if value else "0") if isinstance(value, bool) else f"{value:g}"
            items.append(f"{field.name}={text}")
        return ",".join(items)


def _rate(key: str, text: str) -> float:
    value = _number(key, text)
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"{FAULTS_ENV}: {key}={text}: expected a fraction between 0 and 1")
    return value


def _millis(key: str, text: str) -> float:
    value = _number(key, text)
    if value < 0 or value > 60_000:
        raise FaultSpecError(f"{FAULTS_ENV}: {key}={text}: expected milliseconds 0..60000")
    return value


def _flag(key: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise FaultSpecError(f"{FAULTS_ENV}: {key}={text}: expected 1 or 0")


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"{FAULTS_ENV}: {key}={text}: expected a number") from None
    if not math.isfinite(value):
        raise FaultSpecError(f"{FAULTS_ENV}: {key}={text}: expected a finite number")
    return value


_PARSERS = {
    "error_rate": _rate,
    "latency_ms": _millis,
    "push_failure_rate": _rate,
    "readiness_flap_rate": _rate,
    "readiness_ignores_db": _flag,
}


def parse_faults(spec: str) -> Faults:
    """Parse ``key=value,key=value``; raises `FaultSpecError` with a one-line reason."""
    values: dict[str, float | bool] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not text:
            raise FaultSpecError(f"{FAULTS_ENV}: {item!r}: expected key=value")
        parser = _PARSERS.get(key)
        if parser is None:
            known = ", ".join(sorted(_PARSERS))
            raise FaultSpecError(f"{FAULTS_ENV}: unknown fault {key!r} (known: {known})")
        if key in values:
            raise FaultSpecError(f"{FAULTS_ENV}: fault {key!r} given twice")
        values[key] = parser(key, text)
    return Faults(**values)  # type: ignore[arg-type]


class EvenlySpaced:
    """Decides which events a fault hits: exactly ``rate`` of them, evenly spaced.

    Deterministic on purpose: ``error_rate=0.1`` fails every tenth API request, so even a
    short Prometheus window shows the configured share (a coin flip per request would
    leave a few-second window with no failure a third of the time). The first hit comes
    after about half a period, so a fresh sandbox shows the fault within seconds.
    """

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._credit = 0.5 if rate < 1.0 else 1.0
        self._lock = threading.Lock()

    def hit(self) -> bool:
        if self._rate <= 0.0:
            return False
        with self._lock:
            self._credit += self._rate
            if self._credit >= 1.0:
                self._credit -= 1.0
                return True
            return False
