"""Login sessions of one backend process: opened at login, ended at logout or expiry.

Tokens stay signed and self-contained (`TokenSigner`), so a token another backend on the
same secret issued is still accepted; this registry adds what a stateless token cannot
do: logout ends a token before its expiry, and the open sessions are counted, per run
tag when the login carried one (``/_sandbox/stats``). State lives in memory: a restarted
backend forgets which tokens were ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pytest_wimmelgate.sandbox.service.auth import TokenSigner


@dataclass(frozen=True)
class Session:
    username: str
    tag: str | None
    expires_at: float


class SessionRegistry:
    """Issues, verifies and ends session tokens; counts the open ones."""

    def __init__(self, signer: TokenSigner, clock: Callable[[], float] = time.time) -> None:
        self._signer = signer
        self._clock = clock
        self._open: dict[str, Session] = {}
        self._ended: dict[str, float] = {}  # token -> its expiry (forgotten after it)
        self._lock = threading.Lock()

    def open(self, username: str, tag: str | None) -> str:
        """A new token for ``username``, counted under ``tag`` (None: untagged)."""
        token = self._signer.issue(username)
        claims = self._signer.claims(token)
        expires_at = claims[1] if claims is not None else self._clock()
        with self._lock:
            self._prune()
            self._open[token] = Session(username, tag or None, expires_at)
        return token

    def verify(self, token: str) -> str | None:
        """The username of a valid token that was not ended, else None."""
        claims = self._signer.claims(token)
        if claims is None:
            return None
        with self._lock:
            if token in self._ended:
                return None
        return claims[0]

    def end(self, token: str) -> bool:
        """End a valid token (logout); False when it was not valid (any more)."""
        claims = self._signer.claims(token)
        if claims is None:
            return False
        with self._lock:
            if token in self._ended:
                return False
            self._prune()
            self._open.pop(token, None)
            self._ended[token] = claims[1]
        return True

    def counts(self) -> tuple[int, dict[str, int]]:
        """Open sessions in total and per tag (expired ones are dropped first)."""
        with self._lock:
            self._prune()
            by_tag: dict[str, int] = {}
            for session in self._open.values():
                if session.tag is not None:
                    by_tag[session.tag] = by_tag.get(session.tag, 0) + 1
            return len(self._open), by_tag

    def _prune(self) -> None:
        """Forget expired sessions and ended tokens (caller holds the lock)."""
        now = self._clock()
        for token in [t for t, s in self._open.items() if s.expires_at < now]:
            del self._open[token]
        for token in [t for t, expiry in self._ended.items() if expiry < now]:
            del self._ended[token]
