"""Passwords, signed bearer tokens and the per-username login rate limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

PBKDF2_ITERATIONS = 20_000
TOKEN_TTL_S = 3600


def hash_password(password: str, salt: str | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt>$<hex digest>``."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, expected = encoded.split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), rounds)
    return hmac.compare_digest(digest.hex(), expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Stateless HMAC-signed tokens ``<payload>.<signature>`` carrying user and expiry."""

    def __init__(self, secret: str, ttl_s: int = TOKEN_TTL_S, clock: Callable[[], float] = time.time) -> None:
        self._key = secret.encode()
        self._ttl_s = ttl_s
        self._clock = clock

    def issue(self, username: str) -> str:
        payload = _b64(
            json.dumps(
                {"sub": username, "exp": int(self._clock()) + self._ttl_s, "jti": secrets.token_hex(4)},
                separators=(",", ":"),
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> str | None:
        """The username of a valid, unexpired token, else None."""
        found = self.claims(token)
        return found[0] if found is not None else None

    def claims(self, token: str) -> tuple[str, float] | None:
        """``(username, expires_at)`` of a valid, unexpired token, else None."""
        payload, _, signature = token.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(claims, dict):
            return None
        expires_at = claims.get("exp", 0)
        subject = claims.get("sub")
        if not isinstance(expires_at, (int, float)) or expires_at < self._clock() or not isinstance(subject, str):
            return None
        return subject, float(expires_at)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


class LoginLimiter:
    """Blocks a username after ``limit`` failed logins within ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str) -> int | None:
        """Seconds until the next attempt is allowed, or None when allowed now."""
        with self._lock:
            failures = self._recent(username)
            if len(failures) < self._limit:
                return None
            wait = failures[0] + self._window_s - self._clock()
            return max(1, math.ceil(wait))

    def record_failure(self, username: str) -> None:
        with self._lock:
            self._recent(username).append(self._clock())

    def reset(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)

    def _recent(self, username: str) -> deque[float]:
        now = self._clock()
        for name in [n for n, q in self._failures.items() if q and q[-1] <= now - self._window_s]:
            del self._failures[name]
        failures = self._failures.setdefault(username, deque())
        while failures and failures[0] <= now - self._window_s:
            failures.popleft()
        return failures
