"""The keys every run reads: name, protection, runbook link, extra secret names, waivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node
from pytest_wimmelgate.errors import ConfigError

RUNBOOK_URL = "docs/runbook.md"


@dataclass(frozen=True)
class Waiver:
    """A check whose failure or skip does not block this environment, with the reason why."""

    id: str
    reason: str
    until: date | None = None
    #: a named part of the check (e.g. ``delivery`` of SG-7) instead of the whole check
    part: str | None = None

    def active(self, today: date) -> bool:
        return self.until is None or today <= self.until

    def describe(self) -> str:
        return self.reason + (f" (until {self.until.isoformat()})" if self.until else "")


@dataclass(frozen=True)
class RunRules:
    """The environment's top-level keys."""

    name: str
    protected: bool = False
    runbook_url: str = RUNBOOK_URL
    secret_names: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()

    def active_waivers(self, today: date) -> dict[str, str]:
        """Waiver reasons by check id (whole-check waivers only); expired ones no longer apply."""
        return {w.id: w.describe() for w in self.waivers if w.part is None and w.active(today)}

    def waived_part(self, check_id: str, part: str, today: date) -> Waiver | None:
        """The active waiver of one part of a check, if the environment declares one."""
        return next((w for w in self.waivers if w.id == check_id and w.part == part and w.active(today)), None)


def parse_run_rules(tree: Any, source: str, default_name: str) -> RunRules:
    """The top-level keys of a resolved environment tree."""
    node = Node(tree, source, "")
    waivers = []
    entries = node.raw("waivers") or []
    if not isinstance(entries, list):
        raise node.error("waivers", "expected a list of {id, reason} entries")
    for index, entry in enumerate(entries):
        item = Node(entry, source, f"waivers[{index}]")
        item.only(("id", "reason", "until", "part"))
        until_text = item.optional_text("until")
        until = None
        if until_text is not None:
            try:
                until = date.fromisoformat(until_text.strip()[:10])
            except ValueError:
                raise item.error("until", "expected a date like 2026-12-31") from None
        waivers.append(Waiver(item.text("id"), item.text("reason"), until, item.optional_text("part")))
    name = node.optional_text("name") or default_name
    if "/" in name or name.startswith("."):
        raise ConfigError(source, "name", "expected a plain name (no '/', not starting with '.')")
    return RunRules(
        name=name,
        protected=node.boolean("protected", False),
        runbook_url=node.optional_text("runbook_url") or RUNBOOK_URL,
        secret_names=node.texts("secrets"),
        waivers=tuple(waivers),
    )
