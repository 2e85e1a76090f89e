"""PF-3 and RV-3: down migrations, backup plan, and the applied set after a rollback.

The package, one idea per module:

- `scanner` — which migration files export ``up`` and a usable ``down`` (JavaScript);
- `checks` — PF-3 (`check_down_migrations`) and RV-3's comparison (`applied_match`);
- `applied` — the applied set read through `pytest_wimmelgate.probes.mongo`, and RV-3 end
  to end (`run_applied_match`: an unreachable database is a failed result);
- `git` — the N-1 file names at a git ref;
- `settings` — the ``migrations`` section → `MigrationSettings`.
"""

from __future__ import annotations

from pytest_wimmelgate.domain.migrations.applied import AppliedMigration, applied, run_applied_match
from pytest_wimmelgate.domain.migrations.checks import (
    MigrationResult,
    applied_match,
    backup_plan_problem,
    check_down_migrations,
)
from pytest_wimmelgate.domain.migrations.git import files_at_ref
from pytest_wimmelgate.domain.migrations.scanner import (
    DEFAULT_GLOB,
    MigrationFile,
    migration_files,
    missing_down,
    scan_folder,
    scan_source,
)
from pytest_wimmelgate.domain.migrations.settings import (
    DEFAULT_COLLECTION,
    SECTION,
    MigrationSettings,
    parse_migration_settings,
)

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_GLOB",
    "SECTION",
    "AppliedMigration",
    "MigrationFile",
    "MigrationResult",
    "MigrationSettings",
    "applied",
    "applied_match",
    "backup_plan_problem",
    "check_down_migrations",
    "files_at_ref",
    "migration_files",
    "missing_down",
    "parse_migration_settings",
    "run_applied_match",
    "scan_folder",
    "scan_source",
]
