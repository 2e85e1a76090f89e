"""Parsing the backend section: the shipped default, overrides, and one clear error per mistake."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.contract.model import RUN_VALUES
from pytest_wimmelgate.contract.parse import default_section, parse_backend
from pytest_wimmelgate.contract.templates import MissingValue, Template, TemplateError
from pytest_wimmelgate.errors import ConfigError

SOURCE = "environments/team.yaml"
BASE = "http://127.0.0.1:9"


def backend(**section: Any) -> dict[str, Any]:
    return {"base_url": BASE, **section}


def step(path: str = "/x", **keys: Any) -> dict[str, Any]:
    return {"method": "GET", "path": path, "expect": 200, **keys}


def test_the_default_contract_ships_as_data_and_covers_every_backend_check() -> None:
    settings = parse_backend(backend(), SOURCE)
    steps = settings.contract.steps
    for name in ("health", "readiness", "login", "me", "logout", "message_create", "message_read", "message_delete"):
        assert name in steps
    assert {"upload_create", "upload_read", "upload_delete", "push_send", "push_status"} <= set(steps)
    assert steps["login"].path.literal == "/auth/login" and steps["login"].method == "POST"
    assert settings.contract.session_headers["Authorization"].names == ("token",)
    assert settings.readiness.request == "readiness" and settings.readiness.not_ready_status == (503,)
    assert settings.auth.rate_limit.status == 429 and settings.auth.rate_limit.retry_after_header == "Retry-After"
    assert settings.push.delivery_request == "push_status"
    # honest sampling (issue 11 item 5) can pick the requests that touch the database by their flag
    database = {s.name for s in settings.contract.database_steps()}
    assert "readiness" in database and "message_create" in database and "health" not in database
    assert default_section()["contract"]["health"]["path"] == "/health"


def test_an_environment_replaces_one_step_and_keeps_the_others() -> None:
    login = step("/api/v2/session", method="POST", captures={"token": {"json": "data.jwt"}})
    settings = parse_backend(backend(contract={"login": login}), SOURCE)
    assert settings.contract.step("login").path.literal == "/api/v2/session"
    assert settings.contract.step("login").captures[0].expression == "data.jwt"
    assert settings.contract.step("login").body.kind == "none"  # replaced whole, not merged
    assert settings.contract.step("me").path.literal == "/auth/me"


def test_null_removes_an_optional_step_and_a_default_header() -> None:
    settings = parse_backend(backend(contract={"logout": None}, headers={"X-Wimmelgate-Run": None}), SOURCE)
    assert not settings.contract.has("logout")
    assert "X-Wimmelgate-Run" not in settings.contract.headers


def test_based_on_none_starts_from_nothing_and_needs_every_required_step() -> None:
    with pytest.raises(ConfigError) as error:
        parse_backend(backend(based_on="none", contract={"health": step("/status")}), SOURCE)
    assert str(error.value).startswith(f"{SOURCE}: backend.contract.login: expected this step")


def test_numbers_written_as_text_are_accepted() -> None:
    """Values from ${VAR} placeholders arrive as text."""
    settings = parse_backend(
        backend(
            timeout_s="2.5", rate_limit_attempts="3", gone_status=["404", 410], contract={"health": step(expect="200")}
        ),
        SOURCE,
    )
    assert settings.timeout_s == 2.5 and settings.auth.rate_limit.max_attempts == 3
    assert settings.gone_status == (404, 410) and settings.contract.step("health").expect == (200,)


SESSION_READ = {"session": True, "captures": {"message_text": {"json": "body"}}}
MISTAKES = [
    pytest.param(
        {"contract": {"health": step("/h/{{ version | upper }}")}},
        "backend.contract.health.path",
        "bad template",
        id="bad-template",
    ),
    pytest.param(
        {"contract": {"health": step("/h/{{ run.tag }}")}},
        "backend.contract.health.path",
        "unknown run value 'run.tag'",
        id="unknown-run-value",
    ),
    pytest.param(
        {"contract": {"message_read": step("/messages/{{ msg_id }}", **SESSION_READ)}},
        "backend.contract.message_read.path",
        "unknown captured name 'msg_id'",
        id="unknown-captured-name",
    ),
    pytest.param(
        {"contract": {"message_read": step("/messages/{{ upload_id }}", **SESSION_READ)}},
        "backend.contract.message_read.path",
        "no step before message_read captures it",
        id="captured-by-a-later-flow-only",
    ),
    pytest.param(
        {"contract": {"health": step(captures={"version": {"json": "build[?"}})}},
        "backend.contract.health.captures.version.json",
        "valid JMESPath",
        id="invalid-jmespath",
    ),
    pytest.param(
        {"readiness": {"condition": "checks.[mongo"}},
        "backend.readiness.condition",
        "valid JMESPath",
        id="invalid-condition",
    ),
    pytest.param({"contract": {"me": None}}, "backend.contract.me", "expected this step", id="missing-required-step"),
    pytest.param(
        {"contract": {"upload_read": None}},
        "backend.contract.upload_read",
        "the upload (SG-6, DR-4) flow needs",
        id="half-a-flow",
    ),
    pytest.param(
        {"readiness": {"request": "me"}},
        "backend.readiness.request",
        "touches_database",
        id="readiness-not-touching-the-database",
    ),
    pytest.param(
        {"version": {"request": "about"}},
        "backend.contract.about",
        "expected this step",
        id="version-request-missing",
    ),
    pytest.param(
        {"contract": {"health": step(verb="GET")}},
        "backend.contract.health.verb",
        "unknown key 'verb'",
        id="unknown-step-key",
    ),
    pytest.param(
        {"contract": {"health": step("health")}},
        "backend.contract.health.path",
        "starting with '/'",
        id="relative-path",
    ),
    pytest.param(
        {"contract": {"health": step(expect=[200, 99])}},
        "backend.contract.health.expect",
        "HTTP statuses",
        id="bad-status",
    ),
    pytest.param(
        {"contract": {"health": step(json={"a": 1}, raw="x")}},
        "backend.contract.health.raw",
        "one body per step",
        id="two-bodies",
    ),
    pytest.param(
        {"session_headers": {"X-Session": "{{ message_id }}"}},
        "backend.session_headers.X-Session",
        "captured by neither signup nor login",
        id="session-header-not-from-login",
    ),
    pytest.param(
        {"headers": {"X-Token": "{{ token }}"}},
        "backend.headers.X-Token",
        "run values only",
        id="common-header-capture",
    ),
    pytest.param(
        {"auth": {"rate_limit": {"status": 429, "absent": "no limiter"}}},
        "backend.auth.rate_limit.absent",
        "not both",
        id="rate-limit-and-absent",
    ),
    pytest.param(
        {"push": {"delivery": {"request": "push_status", "delivered": None}}},
        "backend.push.delivery.delivered",
        "JMESPath condition",
        id="delivery-request-without-condition",
    ),
    pytest.param(
        {
            "sweep": [
                {"kind": "m", "list": "message_list", "ids": "nope", "delete": "message_delete", "as": "message_id"}
            ]
        },
        "backend.sweep[0].ids",
        "capture of the list step",
        id="sweep-ids-not-captured",
    ),
    pytest.param({"based_on": "parse"}, "backend.based_on", "expected one of", id="unknown-base"),
    pytest.param({"paths": {"health": "/h"}}, "backend.paths", "unknown key 'paths'", id="old-paths-key"),
]


@pytest.mark.parametrize(("section", "key_path", "wording"), MISTAKES)
def test_a_mistake_is_one_config_error_naming_file_and_key_path(
    section: dict[str, Any], key_path: str, wording: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_backend(backend(**section), SOURCE)
    assert error.value.source == SOURCE and error.value.key_path == key_path, str(error.value)
    assert wording in str(error.value)
    assert "\n" not in str(error.value)


def test_an_error_never_quotes_the_value_it_rejects() -> None:
    secret = "s3cr3t-app-key-0042"
    with pytest.raises(ConfigError) as error:
        parse_backend(backend(contract={"health": step(f"/h?key={secret}{{{{ nope")}), SOURCE)
    assert secret not in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_backend(backend(contract={"health": step(f"{secret}/h")}), SOURCE)
    assert secret not in str(error.value)


def test_a_backend_section_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(ConfigError) as error:
        parse_backend("http://127.0.0.1:9", SOURCE)
    assert error.value.key_path == "backend"


def test_templates_name_values_and_render_them() -> None:
    template = Template.parse("/files/{{ upload.name }}?v={{run.id}}")
    assert template.names == ("upload.name", "run.id") and template.literal == "/files/?v="
    assert template.render_path({"upload.name": "a b/c", "run.id": "wg-1"}) == "/files/a%20b%2Fc?v=wg-1"
    whole = Template.parse("{{ upload.bytes }}")
    assert whole.render({"upload.bytes": b"\x00\x01"}) == b"\x00\x01"  # a whole placeholder keeps its type
    assert Template.parse("{{ upload_url }}").render_path({"upload_url": "http://h/x y"}) == "http://h/x y"
    with pytest.raises(MissingValue):
        template.render({"run.id": "wg-1"})
    for bad in ("{{ a b }}", "{{", "x }}", "{{ a|b }}", "{{ 1a }}"):
        with pytest.raises(TemplateError):
            Template.parse(bad)


def test_every_run_value_a_default_step_uses_is_known() -> None:
    settings = parse_backend(backend(), SOURCE)
    used = {n for s in settings.contract.steps.values() for n in s.names if "." in n}
    assert used <= RUN_VALUES
