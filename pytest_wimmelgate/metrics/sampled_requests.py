"""Which requests active sampling sends: the one place that decides it.

Latency and 5xx SLIs are sampled over the backend contract's requests that touch the
database (``touches_database`` in `pytest_wimmelgate.contract`), never over ``/health``
alone, which answers while the database is down. Only requests that change nothing are
replayed: the readiness request (``readiness.request``) and the database steps sent with
``GET``/``HEAD``, rendered with the run's values and the smoke session's token. A step
that needs a value only an earlier step of a check captures (a message id) is left out,
and the reason of every sampled SLI names what was and was not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.model import Step
from pytest_wimmelgate.errors import CheckFailed
from pytest_wimmelgate.metrics.sampler import Target

SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class SamplingPlan:
    """The requests of one sample, and the contract's database steps left out (with why)."""

    base_url: str
    targets: tuple[Target, ...]
    not_planned: Mapping[str, str] = field(default_factory=dict)


def sampled_requests(
    client: ContractClient, session: Mapping[str, Any] | None, *, no_session: str = ""
) -> SamplingPlan:
    """The plan of requests active sampling sends through ``client``'s contract.

    ``session`` holds the smoke session's captured values (its token); without one,
    session steps are left out with ``no_session`` as the reason.
    """
    settings = client.settings
    contract = settings.contract
    readiness_name = settings.readiness.request
    steps: dict[str, Step] = {}
    if contract.has(readiness_name):
        steps[readiness_name] = contract.step(readiness_name)
    for step in contract.database_steps():
        steps.setdefault(step.name, step)
    targets: list[Target] = []
    not_planned: dict[str, str] = {}
    values = {**client.run_values(), "run.fresh": client.run_id, **dict(session or {})}
    for name, step in steps.items():
        readiness = name == readiness_name
        if not readiness and step.method.upper() not in SAFE_METHODS:
            continue  # sampling never creates or deletes anything
        if step.session and session is None:
            not_planned[step.label()] = no_session or "no smoke session"
            continue
        try:
            request = client._render(step, values, with_session=True)
        except CheckFailed:
            not_planned[step.label()] = "needs a value an earlier step of a check captures"
            continue
        url = request.url + (("&" if "?" in request.url else "?") + urlencode(request.query) if request.query else "")
        targets.append(
            Target(
                step.label(),
                step.method.upper(),
                url,
                request.headers,
                readiness=readiness,
                touches_database=step.touches_database or readiness,
                ok_status=settings.readiness.ok_status if readiness else None,
            )
        )
    return SamplingPlan(settings.base_url, tuple(targets), not_planned)
