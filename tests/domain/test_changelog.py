"""PF-2: a changelog entry for the version."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.domain.changelog import check_entry
from pytest_wimmelgate.errors import Category

CHANGELOG = """\
# Changelog

## [Unreleased]

## [1.4.20] - 2026-12-01
### Fixed
- something else

## [1.4.2] - 2026-11-20
### Added
- Push delivery receipts.

## 1.4.1
- Upload fallback to local storage.

## v1.4.0
"""


@pytest.fixture
def changelog(tmp_path: Path) -> Path:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(CHANGELOG)
    return path


def test_keep_a_changelog_entry(changelog: Path) -> None:
    result = check_entry(changelog, "1.4.2")
    assert result.ok
    assert result.reason == f"{changelog}:9 has an entry for 1.4.2 dated 2026-11-20"


def test_plain_heading_and_v_prefix(changelog: Path) -> None:
    assert check_entry(changelog, "1.4.1").ok
    assert check_entry(changelog, "v1.4.1").ok


def test_no_entry_is_a_product_defect_naming_the_version(changelog: Path) -> None:
    result = check_entry(changelog, "1.4.3")
    assert not result.ok and result.category is Category.PRODUCT
    assert result.reason == f"{changelog} has no entry for version 1.4.3 (newest entry: Unreleased)"


def test_empty_entry_fails(changelog: Path) -> None:
    result = check_entry(changelog, "1.4.0")
    assert not result.ok
    assert result.reason == f"{changelog}:16 entry for version 1.4.0 is empty"


def test_missing_file_is_configuration(tmp_path: Path) -> None:
    result = check_entry(tmp_path / "CHANGELOG.md", "1.4.2")
    assert not result.ok and result.category is Category.CONFIG
    assert result.reason == f"changelog {tmp_path / 'CHANGELOG.md'} not found"


def test_unknown_version_is_configuration(changelog: Path) -> None:
    result = check_entry(changelog, "unversioned")
    assert not result.ok and result.category is Category.CONFIG
