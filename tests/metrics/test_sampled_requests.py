"""Which requests active sampling replays: the contract's database requests that change nothing."""

from __future__ import annotations

from pathlib import Path

import yaml

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections.targets import SmokeAccount
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.parse import parse_backend
from pytest_wimmelgate.metrics.sampled_requests import sampled_requests

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:9"


def client(backend: dict[str, object] | None = None) -> ContractClient:
    settings = parse_backend({"base_url": BASE, **(backend or {})}, "env.yaml")
    return ContractClient(settings, "wg-run1", SecretSet.collect({}), SmokeAccount("smoke", "pw"))


def test_the_default_contract_samples_readiness_and_the_read_only_database_requests() -> None:
    plan = sampled_requests(client(), {"token": "t0k"})

    assert [t.label for t in plan.targets] == [
        "GET /readiness (readiness)",
        "GET /messages (message_list)",
        "GET /messages (message_list_all)",
    ]
    readiness, listing, _ = plan.targets
    assert readiness.readiness and readiness.ok_status == (200,) and readiness.url == f"{BASE}/readiness"
    assert listing.url == f"{BASE}/messages?tag=wg-run1"
    assert listing.headers["Authorization"] == "Bearer t0k" and listing.headers["X-Wimmelgate-Run"] == "wg-run1"
    assert all(t.touches_database and t.method == "GET" for t in plan.targets)
    # steps that need an id only a check's earlier step captures are left out, and say so
    assert plan.not_planned["GET /messages/ (message_read)"] == "needs a value an earlier step of a check captures"
    assert not any(label.startswith(("POST", "DELETE")) for label in plan.not_planned)  # never even considered


def test_without_a_smoke_session_only_requests_without_one_are_sampled() -> None:
    plan = sampled_requests(client(), None, no_session="no smoke session: login answered 503")
    assert [t.label for t in plan.targets] == ["GET /readiness (readiness)"]
    assert plan.not_planned["GET /messages (message_list)"] == "no smoke session: login answered 503"


def test_a_backend_without_readiness_endpoint_samples_its_configured_database_request() -> None:
    other = yaml.safe_load((ROOT / "environments" / "examples" / "other-backend.yaml").read_text(encoding="utf-8"))
    backend = {k: v for k, v in other["backend"].items() if k != "base_url"}
    plan = sampled_requests(client(backend), {"session_token": "t0k", "token": "t0k"})

    readiness = [t for t in plan.targets if t.readiness]
    assert len(readiness) == 1 and readiness[0].label.endswith(f"({other['backend']['readiness']['request']})")
    assert "/health" not in " ".join(t.url for t in plan.targets)
