"""--wg-approval parsing and GL-6."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.domain.approvals import Approval, check_go_no_go, parse_approval, parse_approvals
from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError


def test_parse_roles_and_names() -> None:
    assert parse_approvals(["product-owner:Anna Berg", "Release_Captain: Cem ", "ON-CALL:ben"]) == (
        Approval("product-owner", "Anna Berg"),
        Approval("release-captain", "Cem"),
        Approval("on-call", "ben"),
    )
    assert parse_approval("incident:https://status.example/incidents/42").name == (
        "https://status.example/incidents/42"
    )
    assert parse_approvals(["on-call:Ben", "on-call:Ben"]) == (Approval("on-call", "Ben"),)


@pytest.mark.parametrize(
    ("values", "key_path", "expected"),
    [
        (["cto:S3cr3tBoss"], "[0].role", "one of: product-owner, release-captain, on-call, incident"),
        (["on-call:Ben", "product-owner:"], "[1].name", "ROLE:NAME with a non-empty NAME"),
        (
            ["AnnaWithoutRole"],
            "[0]",
            "ROLE:NAME with ROLE one of: product-owner, release-captain, on-call, incident",
        ),
        (["incident:INC 4711"], "[0].name", "incident:REF with an incident id or URL, no blanks"),
    ],
)
def test_bad_approvals_name_the_position_not_the_value(values: list[str], key_path: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_approvals(values)
    assert (info.value.source, info.value.key_path, info.value.expected) == (
        "--wg-approval",
        key_path,
        expected,
    )
    for value in values:
        assert value.split(":")[-1] not in str(info.value) or not value.split(":")[-1]


def test_gl6_needs_product_owner_and_release_captain() -> None:
    ok = check_go_no_go(parse_approvals(["product-owner:Anna", "release-captain:Cem"]))
    assert ok.ok
    assert ok.reason == "go confirmed by product-owner:Anna and release-captain:Cem"
    assert ok.evidence()["approvals_used"] == ["product-owner:Anna", "release-captain:Cem"]

    missing = check_go_no_go(parse_approvals(["product-owner:Anna", "on-call:Ben"]))
    assert not missing.ok and missing.category is Category.CONFIG
    assert missing.reason == "go/no-go not confirmed: missing approval release-captain:NAME"
    with pytest.raises(CheckFailed):
        missing.raise_for_failure()

    none = check_go_no_go(())
    assert none.reason == ("go/no-go not confirmed: missing approval product-owner:NAME and release-captain:NAME")


def test_gl6_four_eyes() -> None:
    result = check_go_no_go(parse_approvals(["product-owner:Anna", "release-captain:ANNA"]))
    assert not result.ok
    assert "same person" in result.reason
