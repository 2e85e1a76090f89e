"""The sweep: find records by run tag through the contract's list steps and delete them.

It runs at the end of every gate run that used the smoke account (this run's tag) and
as ``wimmelgate sweep`` for leftovers of earlier runs (a tag, or every gate tag older
than a duration). It only ever deletes records whose tag is a gate run's tag
(``wg-…``): a list answer that names a different tag is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pytest_wimmelgate.config.times import parse_external_instant
from pytest_wimmelgate.contract.cleanup import Cleanup, Leftover
from pytest_wimmelgate.contract.client import ContractClient
from pytest_wimmelgate.contract.model import SweepEntry
from pytest_wimmelgate.errors import CheckFailed

GATE_TAG_PREFIX = "wg-"


@dataclass(frozen=True)
class Item:
    id: str
    tag: str | None = None
    created: datetime | None = None


@dataclass
class SweepResult:
    kind: str
    found: int = 0
    deleted: int = 0
    leftovers: list[Leftover] = field(default_factory=list)
    problem: str | None = None  # the list itself failed or is not possible

    def line(self) -> str:
        text = f"{self.kind}: {self.found} found, {self.deleted} deleted"
        if self.leftovers:
            text += f", {len(self.leftovers)} left ({self.leftovers[0].reason})"
        if self.problem:
            text += f" ({self.problem})"
        return text


def sweep_tag(client: ContractClient, session_values: Mapping[str, Any], tag: str) -> list[SweepResult]:
    """Delete every record of each sweepable kind tagged ``tag``."""
    results = []
    for entry in client.settings.sweep:
        result = SweepResult(entry.kind)
        values = {**session_values, "run.id": tag}
        try:
            items = _items(client, entry, entry.list, values)
        except CheckFailed as error:
            result.problem = f"listing failed: {error.reason}"
            results.append(result)
            continue
        chosen = [i for i in items if i.tag in (None, tag)]
        _delete(client, entry, values, chosen, result)
        results.append(result)
    return results


def sweep_older(
    client: ContractClient, session_values: Mapping[str, Any], older_than: timedelta, now: datetime
) -> list[SweepResult]:
    """Delete records of every gate run (tag ``wg-…``) created more than ``older_than`` ago."""
    results = []
    for entry in client.settings.sweep:
        result = SweepResult(entry.kind)
        if entry.list_all is None:
            result.problem = "no list_all step: records cannot be listed by age"
            results.append(result)
            continue
        values = dict(session_values)
        try:
            items = _items(client, entry, entry.list_all, values)
        except CheckFailed as error:
            result.problem = f"listing failed: {error.reason}"
            results.append(result)
            continue
        cutoff = now - older_than
        chosen = [
            i
            for i in items
            if i.tag and i.tag.startswith(GATE_TAG_PREFIX) and i.created is not None and i.created < cutoff
        ]
        _delete(client, entry, values, chosen, result)
        results.append(result)
    return results


def _items(client: ContractClient, entry: SweepEntry, step: str, values: Mapping[str, Any]) -> list[Item]:
    found = client.run(step, values, require_captures=False).captures.get(entry.ids)
    if found is None:
        return []
    if not isinstance(found, list):
        found = [found]
    items = []
    for raw in found:
        if isinstance(raw, Mapping):
            identifier = raw.get("id")
            if identifier in (None, ""):
                continue
            tag = raw.get("tag")
            items.append(
                Item(
                    str(identifier),
                    str(tag) if tag not in (None, "") else None,
                    parse_external_instant(raw.get("created")),
                )
            )
        elif raw not in (None, ""):
            items.append(Item(str(raw)))
    return items


def _delete(
    client: ContractClient, entry: SweepEntry, values: Mapping[str, Any], items: list[Item], result: SweepResult
) -> None:
    result.found = len(items)
    cleanup = Cleanup(client.settings.cleanup)
    for item in items:
        cleanup.add(
            f"{entry.kind} {item.id}",
            _deleter(client, entry.delete, {**values, entry.bind: item.id}),
            kind=entry.kind,
            id=item.id,
        )
    result.leftovers = cleanup.run()
    result.deleted = result.found - len(result.leftovers)


def _deleter(client: ContractClient, step: str, values: Mapping[str, Any]) -> Any:
    def delete() -> None:
        client.run(step, values)

    return delete
