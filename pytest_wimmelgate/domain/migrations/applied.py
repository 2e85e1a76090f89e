"""RV-3 end to end: the applied migrations, read through `pytest_wimmelgate.probes.mongo`,
compared with the files of release N-1.

Applied migrations are documents ``{fileName, appliedAt}`` in the ``changelog`` collection
(configurable) of the application database (migrate-mongo's convention).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pytest_wimmelgate.domain.migrations.checks import MigrationResult, applied_match
from pytest_wimmelgate.domain.migrations.git import files_at_ref
from pytest_wimmelgate.domain.migrations.settings import DEFAULT_COLLECTION, SECTION, MigrationSettings
from pytest_wimmelgate.errors import Category, NotConfigured, ProbeError
from pytest_wimmelgate.probes import mongo


@dataclass(frozen=True)
class AppliedMigration:
    """One document of the changelog collection."""

    file_name: str
    applied_at: datetime | None


def applied(
    mongo_uri: str,
    collection: str = DEFAULT_COLLECTION,
    database: str | None = None,
    timeout_s: float = mongo.DEFAULT_TIMEOUT_S,
) -> list[AppliedMigration]:
    """The applied migrations from MongoDB, oldest first.

    ``database`` defaults to the one named in the URI. Raises :class:`ProbeError`
    (never quoting the URI, which may hold credentials).
    """
    found = mongo.find(
        mongo_uri, collection, database=database, projection={"fileName": 1, "appliedAt": 1}, timeout_s=timeout_s
    )
    result = [
        AppliedMigration(str(d["fileName"]), d.get("appliedAt") if isinstance(d.get("appliedAt"), datetime) else None)
        for d in found.documents
        if d.get("fileName")
    ]
    return sorted(result, key=lambda a: (a.applied_at is None, a.applied_at or datetime.min, a.file_name))


def run_applied_match(
    settings: MigrationSettings, environ: Mapping[str, str], root: str | Path = "."
) -> MigrationResult:
    """RV-3 end to end: read the applied set, compare with the N-1 files."""
    try:
        if settings.previous_files is not None:
            expected: Sequence[str] = settings.previous_files
            release = "N-1"
        elif settings.previous_ref:
            expected = files_at_ref(root, settings.previous_ref, settings.folder, settings.glob)
            release = settings.previous_ref
        else:
            raise NotConfigured(f"{SECTION}.previous_files")
        uri = (environ.get(settings.uri_variable) or "").strip()
        if not uri:
            return MigrationResult(
                "RV-3",
                False,
                f"{settings.uri_variable} not set: cannot read applied migrations",
                Category.CONFIG,
            )
        names = [a.file_name for a in applied(uri, settings.collection, settings.database, settings.timeout_s)]
    except ProbeError as exc:
        return MigrationResult("RV-3", False, exc.reason, exc.category, dict(exc.evidence))
    return applied_match(names, expected, release)
