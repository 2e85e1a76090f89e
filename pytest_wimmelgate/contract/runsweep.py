"""Sweeps outside a check: the end of a gate run, and ``wimmelgate sweep`` for earlier runs.

Both log the smoke account in through the contract, list records by tag (or by age),
delete them with the cleanup's retries, and log out again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_wimmelgate.contract.cleanup import Cleanup, Leftover
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.sessions import Sessions
from pytest_wimmelgate.contract.sweep import SweepResult, sweep_older, sweep_tag
from pytest_wimmelgate.errors import CheckFailed, WimmelgateError


def sweep_run(config: Any) -> tuple[list[str], list[Leftover]]:
    """The end-of-run sweep of a gate run: every record tagged with its run id."""
    from pytest_wimmelgate.contract.fixtures import smoke_account
    from pytest_wimmelgate.plugin import STATE_KEY

    state = config.stash.get(STATE_KEY, None)
    context = getattr(state, "context", None)
    if state is None or context is None or not state.settings.has("backend"):
        return [], []
    try:
        settings = state.settings.get("backend")
        account = smoke_account(state.settings)
    except WimmelgateError as error:
        return [], [Leftover("records of this run", f"sweep not possible: {error}")]
    if not settings.sweep or account is None:
        return [], []
    client = ContractClient(settings, context.run_id, state.secrets, account)
    results, leftovers = sweep(client, tag=context.run_id)
    return [r.line() for r in results if r.found or r.leftovers or r.problem], leftovers


def sweep(
    client: ContractClient, *, tag: str | None = None, older_than: timedelta | None = None, now: datetime | None = None
) -> tuple[list[SweepResult], list[Leftover]]:
    """Log in, sweep by ``tag`` or by age, log out; what remains is returned as leftovers."""
    sessions = Sessions(client)
    try:
        session = sessions.open()
    except CheckFailed as error:
        return [], [Leftover("records of this run" if tag else "records", f"sweep could not log in: {error.reason}")]
    try:
        if older_than is not None:
            results = sweep_older(client, session.values, older_than, now or datetime.now(UTC))
        else:
            results = sweep_tag(client, session.values, tag or client.run_id)
    finally:
        end = Cleanup(client.settings.cleanup)
        end.add("session of the sweep", lambda: sessions.end(session), kind="session")
        ended = end.run()
    leftovers = [leftover for result in results for leftover in result.leftovers]
    leftovers.extend(
        Leftover(f"{r.kind} of {tag or 'gate runs'}", r.problem)
        for r in results
        if r.problem and "listing failed" in r.problem
    )
    return results, leftovers + ended
