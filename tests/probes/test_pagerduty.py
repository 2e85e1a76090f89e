"""The PagerDuty probe against a fake REST API v2 ``/oncalls`` endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import pagerduty

TOKEN = "u+Zx8pQ3rT-Ky5wN2vLm"
SCHEDULE = "PSCHED1"


def _oncall(user: str, *, schedule: str | None = SCHEDULE, start: str | None, end: str | None) -> dict[str, Any]:
    return {
        "escalation_policy": {
            "id": "PPOLICY",
            "type": "escalation_policy_reference",
            "summary": "Wimmelwelt Backend",
            "self": "https://api.pagerduty.com/escalation_policies/PPOLICY",
            "html_url": "https://wimmelwelt.pagerduty.com/escalation_policies/PPOLICY",
        },
        "escalation_level": 1,
        "schedule": None
        if schedule is None
        else {
            "id": schedule,
            "type": "schedule_reference",
            "summary": "Backend Primary",
            "self": f"https://api.pagerduty.com/schedules/{schedule}",
            "html_url": f"https://wimmelwelt.pagerduty.com/schedules/{schedule}",
        },
        "user": {
            "id": f"PU{user[:3].upper()}",
            "type": "user_reference",
            "summary": user,
            "self": "https://api.pagerduty.com/users/PU",
            "html_url": "https://wimmelwelt.pagerduty.com/users/PU",
        },
        "start": start,
        "end": end,
    }


def _page(oncalls: list[Any], *, more: bool = False, offset: int = 0) -> dict[str, Any]:
    return {"oncalls": oncalls, "limit": 100, "offset": offset, "more": more, "total": None}


def test_oncall_now_lists_who_is_on_call(httpserver: HTTPServer, no_secret: Any) -> None:
    seen: list[Request] = []

    def oncalls(request: Request) -> Response:
        seen.append(request)
        body = _page([_oncall("Ada Lovelace", start="2026-11-28T08:00:00Z", end="2026-11-29T08:00:00Z")])
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/oncalls", method="GET").respond_with_handler(oncalls)

    result = pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN, timeout=2)

    request = seen[0]
    assert request.headers["Authorization"] == f"Token token={TOKEN}"
    assert request.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    assert request.args.getlist("schedule_ids[]") == [SCHEDULE]
    assert request.args["earliest"] == "true"
    assert "since" not in request.args and "until" not in request.args
    assert result.users == ("Ada Lovelace",)
    assert result.entries[0].escalation_policy == "Wimmelwelt Backend"
    no_secret(result.evidence(), TOKEN)


def test_oncall_at_a_given_moment_asks_for_it_and_checks_the_shift(httpserver: HTTPServer) -> None:
    now = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    seen: list[Request] = []

    def oncalls(request: Request) -> Response:
        seen.append(request)
        body = _page(
            [
                _oncall("Ended Earlier", start="2026-11-27T08:00:00Z", end="2026-11-28T08:00:00Z"),
                _oncall("Grace Hopper", start="2026-11-28T08:00:00+00:00", end="2026-11-29T08:00:00+00:00"),
                _oncall("Always On", start=None, end=None),
            ]
        )
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/oncalls").respond_with_handler(oncalls)

    result = pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN, now=now)

    assert seen[0].args["since"] == "2026-11-28T19:00:00+00:00"
    assert seen[0].args["until"] == "2026-11-28T19:00:01+00:00"
    assert result.users == ("Grace Hopper", "Always On")


def test_nobody_on_call_is_a_product_defect(httpserver: HTTPServer, no_secret: Any) -> None:
    httpserver.expect_request("/oncalls").respond_with_json(_page([]))

    with pytest.raises(ProbeError) as caught:
        pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN)

    error = caught.value
    assert error.category is Category.PRODUCT
    assert error.reason.startswith("no one on call for schedule PSCHED1 now")
    no_secret(error, TOKEN)


def test_entries_of_other_schedules_do_not_count(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oncalls").respond_with_json(
        _page([_oncall("Someone Else", schedule="POTHER", start=None, end=None)])
    )

    with pytest.raises(ProbeError) as caught:
        pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN)

    assert caught.value.category is Category.PRODUCT


def test_pages_are_followed_while_more(httpserver: HTTPServer) -> None:
    offsets: list[str] = []

    def oncalls(request: Request) -> Response:
        offsets.append(request.args["offset"])
        if request.args["offset"] == "0":
            body = _page([], more=True)  # a first page filtered to nothing on the server side
            body["oncalls"] = [_oncall("Other", schedule="POTHER", start=None, end=None)]
        else:
            body = _page([_oncall("Linus", start=None, end=None)], offset=100)
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/oncalls").respond_with_handler(oncalls)

    result = pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN)

    assert offsets == ["0", "100"]
    assert result.users == ("Linus",)


def test_oncall_failures(failure: Any) -> None:
    base = failure.serve("/oncalls", "GET", secret=TOKEN)

    with pytest.raises(ProbeError) as caught:
        pagerduty.oncall_now(base, SCHEDULE, token=TOKEN, timeout=failure.timeout)

    failure.check(caught.value, TOKEN)


def test_oncall_entry_without_user_is_the_wrong_shape(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oncalls").respond_with_json(_page([{"schedule": None, "start": None}]))

    with pytest.raises(ProbeError) as caught:
        pagerduty.oncall_now(httpserver.url_for("/"), SCHEDULE, token=TOKEN)

    assert caught.value.category is Category.INFRASTRUCTURE
    assert "'user'" in caught.value.reason


def test_default_api_url_is_pagerduty() -> None:
    assert pagerduty.DEFAULT_API_URL == "https://api.pagerduty.com"
