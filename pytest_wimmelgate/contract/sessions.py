"""Sessions of the smoke account: created when missing (signup), opened (login), ended (logout).

Every session a check opens is ended at its teardown, also after a failure; the shared
smoke session of a test process is ended when the process's tests are done. A contract
without a logout step cannot end sessions (they expire on the backend's clock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.contract.cleanup import Cleanup, Leftover
from pytest_wimmelgate.contract.client import ContractClient, Flow


@dataclass
class Session:
    """One open session: the values its login captured (the token among them)."""

    values: dict[str, Any]
    ended: bool = False


@dataclass
class Sessions:
    """Opens and ends the smoke account's sessions through the contract's steps."""

    client: ContractClient
    _signed_up: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ensure_account(self, client: ContractClient | None = None) -> None:
        """Run the optional signup step once; its ``expect`` lists the "created" and "exists" answers."""
        with self._lock:
            if self._signed_up or not self.client.has("signup"):
                return
            runner = client or self.client
            created = runner.run("signup")
            self._signed_up = True
        if runner.session_names() & set(created.captures) and self.client.has("logout"):
            runner.run("logout", created.captures)  # a signup that opened a session: end it

    def open(self, client: ContractClient | None = None) -> Session:
        """Log the smoke account in; the token joins the secret set as it is captured."""
        runner = client or self.client
        self.ensure_account(runner)
        result = runner.run("login")
        return Session(dict(result.captures))

    def end(self, session: Session, client: ContractClient | None = None) -> None:
        """Log out (when the contract has a logout step); an ended session stays ended."""
        if session.ended or not self.client.has("logout"):
            session.ended = True
            return
        (client or self.client).run("logout", session.values)
        session.ended = True

    def opened_in(self, cleanup: Cleanup, client: ContractClient | None = None) -> Session:
        """A new session whose logout is registered with ``cleanup``."""
        session = self.open(client)
        cleanup.add("session of the smoke account", lambda: self.end(session, client), kind="session")
        return session

    def flow(
        self, session: Session, client: ContractClient | None = None, values: dict[str, Any] | None = None
    ) -> Flow:
        """A flow of steps that carries this session's token."""
        return (client or self.client).flow({**session.values, **(values or {})})


def end_quietly(sessions: Sessions, session: Session, cleanup: Cleanup) -> list[Leftover]:
    """End a session with the cleanup's retries; what could not be ended is a leftover."""
    cleanup.add("session of the smoke account", lambda: sessions.end(session), kind="session")
    return cleanup.run()
