"""Session tracking of the backend (logout, expiry, counts per run tag), with a fake clock."""

from __future__ import annotations

from pytest_wimmelgate.sandbox.service.auth import TokenSigner
from pytest_wimmelgate.sandbox.service.session_store import SessionRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _registry(clock: Clock) -> SessionRegistry:
    return SessionRegistry(TokenSigner("secret", ttl_s=60, clock=clock), clock=clock)


def test_logout_ends_a_token_before_its_expiry() -> None:
    sessions = _registry(Clock())
    token = sessions.open("smoke", "run-1")
    assert sessions.verify(token) == "smoke"
    assert sessions.end(token)
    assert sessions.verify(token) is None
    assert not sessions.end(token)
    assert sessions.counts() == (0, {})


def test_open_sessions_are_counted_per_tag_until_they_expire() -> None:
    clock = Clock()
    sessions = _registry(clock)
    sessions.open("smoke", "run-1")
    sessions.open("smoke", "run-1")
    sessions.open("smoke", "run-2")
    sessions.open("smoke", None)
    assert sessions.counts() == (4, {"run-1": 2, "run-2": 1})
    clock.now += 61
    assert sessions.counts() == (0, {})


def test_a_token_of_another_backend_on_the_same_secret_is_accepted() -> None:
    clock = Clock()
    token = _registry(clock).open("smoke", None)
    other = _registry(clock)
    assert other.verify(token) == "smoke"
    assert other.end(token)
    assert other.verify(token) is None
    assert not _registry(clock).end("forged.token")
