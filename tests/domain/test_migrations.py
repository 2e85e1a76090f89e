"""PF-3 (down migrations, backup plan) and RV-3 (applied set equals release N-1), with the
applied set read from a real MongoDB wire server (SecantusDB)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest

from pytest_wimmelgate.domain.migrations import (
    MigrationSettings,
    applied,
    applied_match,
    check_down_migrations,
    files_at_ref,
    missing_down,
    parse_migration_settings,
    run_applied_match,
    scan_source,
)
from pytest_wimmelgate.errors import Category, ConfigError, ProbeError

from .conftest import free_port

METHOD_STYLE = """\
module.exports = {
  async up(db, client) {
    await db.collection('albums').updateOne({artist: 'The Beatles'}, {$set: {blacklisted: true}});
  },

  async down(db, client) {
    await db.collection('albums').updateOne({artist: 'The Beatles'}, {$set: {blacklisted: false}});
  }
};
"""

PROPERTY_STYLE = """\
// adds an index; "down" drops it again
module.exports = {
  up: async (db) => { await db.collection('messages').createIndex({ createdAt: 1 }); },
  down: async (db) => db.collection('messages').dropIndex('createdAt_1'),
};
"""

EXPORTS_STYLE = """\
exports.up = function (db, next) { db.collection('users').updateMany({}, {$set: {v: 2}}, next); };
exports.down = function (db, next) { db.collection('users').updateMany({}, {$unset: {v: ''}}, next); };
"""

SHORTHAND_STYLE = """\
async function up(db) { await db.createCollection('pushes'); }
const down = async (db) => { await db.collection('pushes').drop(); };
module.exports = { up, down };
"""

ESM_STYLE = """\
export async function up(db) { await db.collection('a').insertOne({ x: "}" }); }
export const down = async db => { await db.collection('a').deleteMany({}); };
"""

TEMPLATE_DOWN = """\
module.exports = {
  async up(db, client) {
    await db.collection('uploads').updateMany({}, {$set: {storage: 's3'}});
  },
  async down(db, client) {
    // TODO write the statements to rollback your migration (if possible)
    // Example:
    // await db.collection('albums').updateOne({artist: 'The Beatles'}, {$set: {blacklisted: false}});
  }
};
"""

THROWING_DOWN = """\
module.exports = {
  async up(db) { await db.collection('old').drop(); },
  async down() { throw new Error('irreversible: restore the backup'); },
};
"""

UP_ONLY = """\
module.exports = {
  async up(db) { await db.collection('x').insertOne({ note: 'down: not written' }); },
  // async down(db) {}
};
"""


@pytest.mark.parametrize(
    ("source", "has_up", "has_down", "note"),
    [
        (METHOD_STYLE, True, True, ""),
        (PROPERTY_STYLE, True, True, ""),
        (EXPORTS_STYLE, True, True, ""),
        (SHORTHAND_STYLE, True, True, ""),
        (ESM_STYLE, True, True, ""),
        (TEMPLATE_DOWN, True, False, "empty"),
        (THROWING_DOWN, True, False, "only throws"),
        (UP_ONLY, True, False, ""),
    ],
)
def test_scan_detects_up_and_down(source: str, has_up: bool, has_down: bool, note: str) -> None:
    found = scan_source("x.js", source)
    assert (found.has_up, found.has_down, found.down_note) == (has_up, has_down, note)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_pf3_passes_when_every_migration_has_down(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "migrations",
        {
            "20261101120000-blacklist.js": METHOD_STYLE,
            "20261110090000-index.js": PROPERTY_STYLE,
            "README.md": "not a migration",
        },
    )
    result = check_down_migrations(folder, backup_plan="https://wiki.example/ops/backup-plan")
    assert result.ok, result.reason
    assert result.reason == (
        f"2 migrations in {folder} have up and down; backup plan https://wiki.example/ops/backup-plan"
    )


def test_pf3_fails_naming_migrations_without_down(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "migrations",
        {
            "20261101120000-ok.js": METHOD_STYLE,
            "20261120120000-storage.js": TEMPLATE_DOWN,
            "20261121120000-drop-old.js": THROWING_DOWN,
        },
    )
    assert missing_down(folder) == ["20261120120000-storage.js", "20261121120000-drop-old.js"]
    result = check_down_migrations(folder, backup_plan="Backup-Plan: Snapshot vor Deploy, siehe OPS-812")
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == (
        "no down migration in 20261120120000-storage.js (empty), 20261121120000-drop-old.js (only throws)"
    )


@pytest.mark.parametrize(
    ("plan", "reason"),
    [
        (None, "no backup plan referenced (migrations.backup_plan)"),
        ("   ", "no backup plan referenced (migrations.backup_plan)"),
        ("ftp://files.example/plan", "backup plan reference is not an http(s) URL with a host"),
    ],
)
def test_pf3_needs_a_backup_plan(tmp_path: Path, plan: str | None, reason: str) -> None:
    folder = write(tmp_path / "m", {"1-a.js": METHOD_STYLE})
    result = check_down_migrations(folder, backup_plan=plan)
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason == reason


def test_pf3_missing_folder_is_configuration(tmp_path: Path) -> None:
    result = check_down_migrations(tmp_path / "nope", backup_plan="x")
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason == f"migrations folder {tmp_path / 'nope'} does not exist"


# ----------------------------------------------------------------------------- RV-3


def test_rv3_match_and_mismatch() -> None:
    n_minus_1 = ["20261101120000-a.js", "20261110090000-b.js"]
    assert applied_match(n_minus_1, n_minus_1).reason == "applied migrations match N-1 (2 migrations)"
    result = applied_match([*n_minus_1, "20261120120000-c.js"], n_minus_1)
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == (
        "applied migrations differ from N-1: still applied (down migration did not run): 20261120120000-c.js"
    )
    behind = applied_match(n_minus_1[:1], n_minus_1, release="v1.4.1")
    assert behind.reason == "applied migrations differ from v1.4.1: v1.4.1 migrations not applied: 20261110090000-b.js"


def seed_changelog(mongo_uri: str, database: str, names: list[str]) -> None:
    client: Any = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=3000)
    try:
        client[database]["changelog"].insert_many(
            [{"fileName": n, "appliedAt": datetime(2026, 11, 1 + i, tzinfo=UTC)} for i, n in enumerate(names)]
        )
    finally:
        client.close()


def test_rv3_reads_the_applied_set_from_mongodb(mongo_uri: str, unique: str) -> None:
    seed_changelog(mongo_uri, unique, ["20261101120000-a.js", "20261110090000-b.js", "20261120120000-c.js"])
    found = applied(f"{mongo_uri}/{unique}")
    assert [a.file_name for a in found] == [
        "20261101120000-a.js",
        "20261110090000-b.js",
        "20261120120000-c.js",
    ]
    assert found[0].applied_at == datetime(2026, 11, 1, tzinfo=UTC)
    settings = MigrationSettings(
        "env.yaml", "migrations", previous_files=("20261101120000-a.js", "20261110090000-b.js")
    )
    result = run_applied_match(settings, {"MONGODB_URI": f"{mongo_uri}/{unique}"})
    assert not result.ok
    assert "still applied (down migration did not run): 20261120120000-c.js" in result.reason
    # the down migration runs: migrate-mongo removes the changelog document
    client: Any = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=3000)
    client[unique]["changelog"].delete_one({"fileName": "20261120120000-c.js"})
    client.close()
    assert run_applied_match(settings, {"MONGODB_URI": f"{mongo_uri}/{unique}"}).ok


def test_rv3_unreachable_database_is_infrastructure() -> None:
    settings = MigrationSettings("env.yaml", "migrations", previous_files=("a.js",), timeout_s=0.3)
    uri = f"mongodb://app:Very-Secret-Pw-2@127.0.0.1:{free_port()}/wimmelwelt_prod"
    result = run_applied_match(settings, {"MONGODB_URI": uri})
    assert not result.ok and result.category is Category.INFRASTRUCTURE
    assert result.reason == "mongodb 127.0.0.1 wimmelwelt_prod.changelog: ServerSelectionTimeoutError"
    assert "Very-Secret" not in str(result.evidence())
    assert run_applied_match(settings, {}).reason == "MONGODB_URI not set: cannot read applied migrations"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_files_at_a_git_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "migrations", {"1-a.js": METHOD_STYLE, "2-b.js": METHOD_STYLE})

    def git(*args: str) -> None:
        who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
        env = {**who, "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "n-1")
    git("tag", "v1.4.1")
    write(repo / "migrations", {"3-c.js": METHOD_STYLE})
    assert files_at_ref(repo, "v1.4.1", "migrations") == ["1-a.js", "2-b.js"]
    with pytest.raises(ProbeError) as info:
        files_at_ref(repo, "v9.9.9", "migrations")
    assert info.value.category is Category.CONFIG


def test_settings_parse_and_errors() -> None:
    settings = parse_migration_settings(
        {"folder": "migrations", "backup_plan": "https://wiki.example/plan", "previous_ref": "v1.4.1"},
        "env.yaml",
    )
    assert (settings.glob, settings.collection, settings.uri_variable) == ("*.js", "changelog", "MONGODB_URI")
    for section, key_path in (
        ({}, "migrations.folder"),
        ({"folder": "m", "colection": "x"}, "migrations.colection"),
        ({"folder": "m", "previous_files": "a.js"}, "migrations.previous_files"),
        ({"folder": ""}, "migrations.folder"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_migration_settings(section, "env.yaml")
        assert info.value.key_path == key_path


def test_settings_unknown_key_wording_and_numbers_as_text() -> None:
    with pytest.raises(ConfigError) as info:
        parse_migration_settings({"folder": "m", "colection": "x"}, "env.yaml")
    assert info.value.expected == (
        "unknown key 'colection' (expected one of: backup_plan, collection, database, folder, glob, "
        "previous_files, previous_ref, timeout_s, uri_variable)"
    )
    assert parse_migration_settings({"folder": "m", "timeout_s": "2.5"}, "env.yaml").timeout_s == 2.5
    with pytest.raises(ConfigError) as info:
        parse_migration_settings({"folder": "m", "timeout_s": "soon"}, "env.yaml")
    assert (info.value.key_path, info.value.expected) == ("migrations.timeout_s", "seconds between 0 and 60")
