"""The contract client on a real backend: mismatches, categories, captured secrets, sessions."""

from __future__ import annotations

import json
import re

import pytest
import requests

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.contract.client import ContractMismatch
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.errors import Category, CheckFailed
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from tests.contract.conftest import OTHER_BACKEND, SANDBOX_YAML, client_for, settings_for, stats

TOKEN_IN_BODY = re.compile(r'"sessionToken":"([^"]+)"')


def _logout(info: SandboxInfo, token: str) -> None:
    requests.post(
        f"{info.base_url}/parse/logout",
        headers={"X-App-Id": "wimmelwelt-sandbox", "X-Session-Token": token},
        timeout=5,
    )


def test_a_capture_that_finds_nothing_is_a_contract_mismatch_with_the_answer_masked(parse_sandbox: SandboxInfo) -> None:
    login = {
        "method": "POST",
        "path": "/parse/login",
        "json": {"username": "{{ account.username }}", "password": "{{ account.password }}"},
        "expect": 200,
        "captures": {"token": {"json": "token", "secret": True}},  # this backend calls it sessionToken
    }
    settings = settings_for(OTHER_BACKEND, parse_sandbox)
    contract = settings_for(OTHER_BACKEND, parse_sandbox, {"contract": {**_raw_contract(), "login": login}})
    assert contract.contract.step("login").captures[0].expression == "token" and settings is not contract
    secrets = SecretSet()
    client = client_for(contract, parse_sandbox, secrets)
    with pytest.raises(ContractMismatch) as error:
        client.run("login")
    reason = error.value.reason
    assert error.value.category is Category.CONTRACT and str(error.value).startswith("[contract mismatch] ")
    assert f"POST {parse_sandbox.base_url}/parse/login (login): capture 'token' (json: token) found nothing" in reason
    assert "HTTP 200 answer" in reason
    token = TOKEN_IN_BODY.search(reason)
    assert token, reason
    try:
        # the session token the answer carried under another name is a secret already
        assert '"sessionToken":"***"' in secrets.redact(reason)
        assert token.group(1) not in json.dumps(secrets.redact_tree(error.value.evidence))
    finally:
        _logout(parse_sandbox, token.group(1))


def test_an_unexpected_status_is_a_contract_mismatch_naming_expected_and_actual(parse_sandbox: SandboxInfo) -> None:
    """The default Wimmelwelt contract against the other dialect: its paths do not exist there."""
    client = client_for(settings_for(SANDBOX_YAML, parse_sandbox), parse_sandbox)
    with pytest.raises(ContractMismatch) as error:
        client.run("health")
    assert error.value.reason.startswith(f"GET {parse_sandbox.base_url}/health (health): expected HTTP 200, got 404")


def test_a_rejected_app_id_is_configuration_missing(parse_sandbox: SandboxInfo) -> None:
    settings = settings_for(OTHER_BACKEND, parse_sandbox, {"headers": {"X-App-Id": "not-the-app"}})
    with pytest.raises(CheckFailed) as error:
        client_for(settings, parse_sandbox).run("status")
    assert error.value.category is Category.CONFIG and "credentials rejected, HTTP 403" in error.value.reason


def test_an_unreachable_backend_is_infrastructure_unreachable(parse_sandbox: SandboxInfo) -> None:
    settings = settings_for(OTHER_BACKEND, parse_sandbox, {"base_url": "http://127.0.0.1:9", "timeout_s": 1})
    with pytest.raises(CheckFailed) as error:
        client_for(settings, parse_sandbox).run("status")
    assert error.value.category is Category.INFRASTRUCTURE and "unreachable" in error.value.reason
    assert error.value.evidence["step"] == "status"


def test_a_captured_token_is_secret_at_once_and_never_in_the_evidence(parse_sandbox: SandboxInfo) -> None:
    secrets = SecretSet()
    client = client_for(settings_for(OTHER_BACKEND, parse_sandbox), parse_sandbox, secrets)
    sessions = Sessions(client)
    session = sessions.open()
    token = str(session.values["token"])
    try:
        assert token in secrets.values
        client.run("me", session.values)
        shown = json.dumps(client.transcript.evidence())
        assert token not in shown and '"X-Session-Token": "***"' in shown
    finally:
        sessions.end(session)
    assert client.run("me", session.values, expect=None).status == 401  # ended


def test_signup_creates_a_missing_account_once_and_leaves_no_session(parse_sandbox: SandboxInfo) -> None:
    settings = settings_for(OTHER_BACKEND, parse_sandbox)
    client = client_for(settings, parse_sandbox)
    fresh = {"account.username": f"new-{client.run_id}", "account.password": "Fresh-Passw0rd-9"}
    before = stats(parse_sandbox)["sessions_open"]
    created = client.run("signup", fresh)
    again = client.run("signup", fresh, require_captures=False)
    assert (created.status, again.status) == (201, 400)
    Sessions(client).end(_session(created.captures))
    login = client.run("login", fresh)
    Sessions(client).end(_session(login.captures))
    assert stats(parse_sandbox)["sessions_open"] == before
    assert client.run_id not in stats(parse_sandbox)["by_tag"]


def _session(values: dict[str, object]) -> object:
    from pytest_wimmelgate.contract.sessions import Session

    return Session(dict(values))


def _raw_contract() -> dict[str, object]:
    import yaml

    return dict(yaml.safe_load(OTHER_BACKEND.read_text())["backend"]["contract"])


def test_the_reported_version_comes_from_the_contracts_version_request(parse_sandbox: SandboxInfo) -> None:
    from pytest_wimmelgate.contract.health import reported_version

    settings = settings_for(OTHER_BACKEND, parse_sandbox)
    assert reported_version(settings, SecretSet(), run_id="wg-start") == "0.0.0-sandbox"  # GET /parse/about
    unreachable = settings_for(OTHER_BACKEND, parse_sandbox, {"base_url": "http://127.0.0.1:9"})
    assert reported_version(unreachable, SecretSet(), run_id="wg-start") is None
