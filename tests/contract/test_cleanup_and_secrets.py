"""Teardown that outlives an outage, and the values that are secret from the start."""

from __future__ import annotations

from pytest_wimmelgate.contract.cleanup import Cleanup
from pytest_wimmelgate.contract.model import CleanupSettings
from pytest_wimmelgate.contract.parse import parse_backend
from pytest_wimmelgate.contract.secrets import startup_secrets
from pytest_wimmelgate.errors import Category, CheckFailed


class Clock:
    """A clock that moves only when the cleanup sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def failing(times: int, category: Category = Category.INFRASTRUCTURE) -> tuple[list[int], object]:
    calls: list[int] = []

    def undo() -> None:
        calls.append(1)
        if len(calls) <= times:
            raise CheckFailed(category, "DELETE /uploads/1 (upload_delete): server error HTTP 503")

    return calls, undo


def cleanup(bound_s: float = 10.0) -> tuple[Cleanup, Clock]:
    clock = Clock()
    return Cleanup(CleanupSettings(retry_bound_s=bound_s, retry_interval_s=1.0), sleep=clock.sleep, clock=clock), clock


def test_a_delete_failing_while_a_dependency_is_down_is_retried_until_it_recovers() -> None:
    undo, clock = cleanup()
    calls, action = failing(3)
    undo.add("upload 1", action)  # type: ignore[arg-type]
    assert undo.run() == []
    assert len(calls) == 4 and clock.now == 3.0


def test_retries_end_at_the_bound_and_what_is_left_is_reported() -> None:
    undo, clock = cleanup(bound_s=5.0)
    calls, action = failing(100)
    undo.add("upload 1", action, kind="upload", id="1")  # type: ignore[arg-type]
    [left] = undo.run()
    assert left.kind == "upload" and left.id == "1" and "503" in left.reason and "5 s of retries" in left.reason
    assert left.warning().startswith("cleanup: upload 1 not removed (")
    assert clock.now <= 5.0 and len(calls) == 6


def test_a_contract_mismatch_is_not_retried_and_the_others_still_run() -> None:
    undo, _ = cleanup()
    mismatch_calls, mismatch = failing(100, Category.CONTRACT)
    ok_calls, ok = failing(0)
    undo.add("message 1", ok)  # type: ignore[arg-type]
    undo.add("message 2", mismatch)  # type: ignore[arg-type]
    [left] = undo.run()
    assert left.what == "message 2" and len(mismatch_calls) == 1 and len(ok_calls) == 1


def test_undo_runs_newest_first() -> None:
    undo, _ = cleanup()
    order: list[str] = []
    undo.add("session", lambda: order.append("session"))
    undo.add("message", lambda: order.append("message"))
    undo.run()
    assert order == ["message", "session"]


def test_url_credentials_and_literal_contract_headers_are_secret_from_the_start() -> None:
    section = {
        "base_url": "https://gate:Pa%24%24w0rd-77@api.example.test",
        "headers": {"X-App-Id": "app-7f3e9c1d", "X-Wimmelgate-Run": "{{ run.id }}", "Accept": "application/json"},
        "session_headers": {"Authorization": "Bearer {{ token }}"},
    }
    settings = parse_backend(section, "env.yaml")
    tree = {"backend": section, "logs": {"url": "https://ghp-token-1234567@logs.example.test/x"}}
    found = startup_secrets(tree, settings)
    assert {"app-7f3e9c1d", "Pa$$w0rd-77", "Pa%24%24w0rd-77", "ghp-token-1234567"} <= found
    assert not found & {"application/json", "Bearer", "Bearer ", "{{ run.id }}", "gate"}
