"""``wimmelgate sweep --env ENV [--tag TAG | --older-than D]``: remove what earlier gate runs left behind.

It speaks the environment's backend contract with the smoke account, like the checks:
``--tag wg-…`` deletes the records of one run (the list step of each ``backend.sweep``
entry), ``--older-than 7d`` those of every gate run created more than 7 days ago (the
``list_all`` step). Exit 0 when nothing is left, 1 when something could not be removed,
4 for a bad environment file or option (one line).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.config.sections import parse_sections
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.runsweep import sweep
from pytest_wimmelgate.contract.secrets import startup_secrets
from pytest_wimmelgate.contract.sweep import GATE_TAG_PREFIX
from pytest_wimmelgate.errors import ConfigError, WimmelgateError

EXIT_OK, EXIT_LEFT, EXIT_USAGE = 0, 1, 4


def run_sweep(
    env_spec: str,
    *,
    tag: str | None,
    older_than: str | None,
    rootdir: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """The command; prints one line per kind of record and one per leftover."""
    from pytest_wimmelgate.config.environment import load

    out = out or sys.stdout
    if (tag is None) == (older_than is None):
        return _usage("sweep: give exactly one of --tag TAG or --older-than DURATION")
    if tag is not None and not tag.startswith(GATE_TAG_PREFIX):
        return _usage(f"sweep: --tag must be a gate run's tag ({GATE_TAG_PREFIX}…)")
    age: timedelta | None = None
    if older_than is not None:
        from pytest_wimmelgate.metrics.slo import parse_duration

        try:
            age = timedelta(seconds=parse_duration(older_than))
        except ValueError:
            return _usage("sweep: --older-than expects a duration like 12h or 7d")
    try:
        env = load(env_spec, rootdir=rootdir or Path.cwd())
        if not env.has("smoke_account"):
            raise ConfigError(env.source, "smoke_account", "expected the smoke account the sweep logs in with")
        run_settings = parse_sections(env, ["backend", "smoke_account"])
        settings = run_settings.get("backend")
        account = run_settings.get("smoke_account")
        secrets = SecretSet.collect(dict(os.environ))
        secrets.add(account.password, *startup_secrets(run_settings.resolved, settings))
    except WimmelgateError as error:
        return _usage(str(error))
    if not settings.sweep:
        return _usage(f"{env.source}: backend.sweep: expected at least one entry (nothing can be listed by tag)")
    client = ContractClient(settings, tag or "wg-sweep", secrets, account)
    results, leftovers = sweep(client, tag=tag, older_than=age)
    what = f"tag {tag}" if tag else f"gate runs older than {older_than}"
    for result in results:
        print(secrets.redact(f"sweep {what}: {result.line()}"), file=out)
    for leftover in leftovers:
        print(secrets.redact(f"left: {leftover.what}: {leftover.reason}"), file=out)
    return EXIT_LEFT if leftovers else EXIT_OK


def _usage(message: str) -> int:
    print(f"wimmelgate: {message}", file=sys.stderr)
    return EXIT_USAGE
