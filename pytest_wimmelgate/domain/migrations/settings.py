"""The ``migrations`` section of an environment file, parsed into `MigrationSettings`.

::

    migrations:
      folder: migrations                 # relative to the project root
      glob: "*.js"
      collection: changelog
      uri_variable: MONGODB_URI          # RV-3: where the applied set is read
      database: null                     # default: the database named in the URI
      backup_plan: https://wiki.example/ops/backup-plan-1.4.2   # PF-3: URL or text
      previous_files: [...]              # RV-3: the files of release N-1, or
      previous_ref: v1.4.1               # a git ref whose <folder> holds them
      timeout_s: 5                       # MongoDB timeouts (a text such as "5" too)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.config.fields import check_keys, number
from pytest_wimmelgate.domain.migrations.scanner import DEFAULT_GLOB
from pytest_wimmelgate.errors import ConfigError, NotConfigured

SECTION = "migrations"
DEFAULT_COLLECTION = "changelog"
KEYS = (
    "folder",
    "glob",
    "collection",
    "uri_variable",
    "database",
    "backup_plan",
    "previous_files",
    "previous_ref",
    "timeout_s",
)
_TEXTS = ("folder", "glob", "collection", "uri_variable", "database", "backup_plan", "previous_ref")


@dataclass(frozen=True)
class MigrationSettings:
    """The parsed ``migrations`` section."""

    source: str
    folder: str
    glob: str = DEFAULT_GLOB
    collection: str = DEFAULT_COLLECTION
    uri_variable: str = "MONGODB_URI"
    database: str | None = None
    backup_plan: str | None = None
    previous_files: tuple[str, ...] | None = None
    previous_ref: str | None = None
    timeout_s: float = 5.0


def parse_migration_settings(section: Mapping[str, Any] | None, source: str) -> MigrationSettings:
    """Validate the ``migrations`` section of the environment file at ``source``."""
    if section is None:
        raise NotConfigured(SECTION)
    if not isinstance(section, Mapping):
        raise ConfigError(source, SECTION, "a mapping")
    check_keys(section, KEYS, source, SECTION)
    texts: dict[str, str | None] = {}
    for k in _TEXTS:
        v = section.get(k)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise ConfigError(source, f"{SECTION}.{k}", "a non-empty text")
        texts[k] = v
    if texts["folder"] is None:
        raise ConfigError(source, f"{SECTION}.folder", "the folder holding the migration files")
    previous = section.get("previous_files")
    if previous is not None and (
        not isinstance(previous, list) or not all(isinstance(p, str) and p.strip() for p in previous)
    ):
        raise ConfigError(source, f"{SECTION}.previous_files", "a list of file names")
    timeout = number(
        section.get("timeout_s", 5.0), source, f"{SECTION}.timeout_s", "seconds between 0 and 60", above=0, at_most=60
    )
    return MigrationSettings(
        source=source,
        folder=str(texts["folder"]),
        glob=texts["glob"] or DEFAULT_GLOB,
        collection=texts["collection"] or DEFAULT_COLLECTION,
        uri_variable=texts["uri_variable"] or "MONGODB_URI",
        database=texts["database"],
        backup_plan=texts["backup_plan"],
        previous_files=tuple(previous) if previous is not None else None,
        previous_ref=texts["previous_ref"],
        timeout_s=timeout,
    )
