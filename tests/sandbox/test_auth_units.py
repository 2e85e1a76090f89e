"""Tokens and the login limiter, with a fake clock (no processes)."""

from __future__ import annotations

from pytest_wimmelgate.sandbox.service.auth import (
    LoginLimiter,
    TokenSigner,
    hash_password,
    verify_password,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_password_hash_verifies_only_the_right_password() -> None:
    encoded = hash_password("s3cret")
    assert "s3cret" not in encoded
    assert verify_password("s3cret", encoded)
    assert not verify_password("wrong", encoded)
    assert not verify_password("s3cret", "garbage")


def test_tokens_expire_and_resist_tampering() -> None:
    clock = Clock()
    signer = TokenSigner("k" * 32, ttl_s=60, clock=clock)
    token = signer.issue("smoke")
    assert signer.verify(token) == "smoke"
    assert TokenSigner("other" * 8, clock=clock).verify(token) is None
    payload, _, signature = token.partition(".")
    assert signer.verify(payload + "x." + signature) is None
    clock.now += 61
    assert signer.verify(token) is None


def test_limiter_blocks_after_limit_and_reports_retry_after() -> None:
    clock = Clock()
    limiter = LoginLimiter(3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("x") is None
        limiter.record_failure("x")
        clock.now += 10
    assert limiter.retry_after("x") == 30
    assert limiter.retry_after("other") is None
    clock.now += 31
    assert limiter.retry_after("x") is None
    limiter.record_failure("y")
    limiter.reset("y")
    assert limiter.retry_after("y") is None
