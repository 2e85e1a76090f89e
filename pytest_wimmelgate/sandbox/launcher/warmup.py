"""Readiness of the sandbox's Prometheus for the checks that read it, told by its API.

Nothing here sleeps for a fixed time: each wait polls an API answer that the data is there.

- ``rules_loaded``: ``/api/v1/rules`` lists the shipped rule group (what AL-1 reads).
- ``metric_data_ready``: one instant query true once the metric gates (metrics/slo.py) can
  measure: every series their SLIs read holds at least two samples (``rate()`` needs two;
  a series with one reads as no increase, e.g. a 5xx series born with its first error),
  the successful scrapes of the backend span long enough for about ``WARM_UP_REQUESTS``
  requests (`warm_up_span`: then a fault rate of a few percent shows, one error is not
  the whole rate), and the window of every ratio SLI holds at least
  ``slo.DEFAULT_MIN_EVENTS`` events, counted by the SLI's own ``events`` query: below
  that the gates say "no data" (a ratio over two readiness checks is no measurement).
  The sandbox's traffic sends readiness probes and pushes at a steady rate of their own
  (`pytest_wimmelgate.sandbox.service.traffic`), so that takes about two seconds of scrapes.

Prometheus 2.x applies the targets of a new configuration only on its discovery tick, 5 s
after start; that, not the scrape interval, is the floor of a metric warm-up: events
before the first scrape are in no window.
"""

from __future__ import annotations

import math

from pytest_wimmelgate.metrics.slo import DEFAULT_MIN_EVENTS, DEFAULT_SLIS
from pytest_wimmelgate.sandbox.launcher.processes import POLL_S
from pytest_wimmelgate.sandbox.launcher.waits import HTTP_TIMEOUT_S

#: the series the default SLIs read (metrics/slo.py DEFAULT_SLIS)
SLI_METRICS = (
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "readiness_checks_total",
    "push_deliveries_total",
)
#: requests the warm-up window should hold: one error in them is 1 %, half the 5xx limit
WARM_UP_REQUESTS = 100
#: the scrapes span at least the first, at most the second: below 50 requests one error is
#: already above the 2 % limit, so a longer wait would not show a fault more surely
WARM_UP_SPAN_S = (1.0, 2.0)
WARM_UP_BOUND_S = 30.0
LOOKBACK = "1m"
RULE_GROUP = "wimmelwelt"


def warm_up_span(traffic_rps: float) -> float:
    """Seconds of scrapes that hold about `WARM_UP_REQUESTS` at ``traffic_rps``, bounded."""
    low, high = WARM_UP_SPAN_S
    if traffic_rps <= 0:
        return low
    return min(high, max(low, WARM_UP_REQUESTS / traffic_rps))


def event_queries(window: str = LOOKBACK) -> tuple[str, ...]:
    """The count of events of each default ratio SLI (the one query each SLI's gate reads)."""
    return tuple(sorted({sli.events_query(window) for sli in DEFAULT_SLIS.values() if sli.events}))


def metric_data_query(
    job: str, scrape_interval_s: float, span_s: float = WARM_UP_SPAN_S[0], min_events: int = DEFAULT_MIN_EVENTS
) -> str:
    """The PromQL that returns a sample exactly when the metric gates can measure."""
    scrapes = 1 + max(1, math.ceil(span_s / scrape_interval_s - 1e-9))
    parts = [f'max(sum_over_time(up{{job="{job}"}}[{LOOKBACK}])) >= {scrapes}']
    parts += [f"min(count_over_time({metric}[{LOOKBACK}])) >= 2" for metric in SLI_METRICS]
    parts += [f"{events} >= {min_events}" for events in event_queries()]
    return " and ".join(f"({part})" for part in parts)


def query_has_result(prometheus_url: str, query: str) -> bool:
    """True when the instant query answers with at least one sample."""
    import requests

    try:
        answer = requests.get(f"{prometheus_url}/api/v1/query", params={"query": query}, timeout=HTTP_TIMEOUT_S)
        return bool(answer.json()["data"]["result"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return False


def rules_loaded(prometheus_url: str, group: str = RULE_GROUP) -> bool:
    """True once Prometheus lists the rule group ``group``."""
    import requests

    try:
        answer = requests.get(f"{prometheus_url}/api/v1/rules", timeout=HTTP_TIMEOUT_S)
        return any(g.get("name") == group for g in answer.json()["data"]["groups"])
    except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
        return False


def wait_for_metric_data(
    prometheus_url: str,
    *,
    job: str,
    scrape_interval_s: float,
    span_s: float = WARM_UP_SPAN_S[0],
    bound_s: float = WARM_UP_BOUND_S,
) -> bool:
    """Poll until `metric_data_query` answers; False when ``bound_s`` passes first (the
    metric checks then say "no data", which is the truth)."""
    import time

    query = metric_data_query(job, scrape_interval_s, span_s)
    deadline = time.monotonic() + bound_s
    interval = max(POLL_S * 5, scrape_interval_s / 4)
    while not query_has_result(prometheus_url, query):
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
