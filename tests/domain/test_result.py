"""`measured`: a probe that raises on a failed criterion becomes a `CheckResult` that keeps
what the probe saw, its category and reason; only a failed check is turned into a result."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.domain.result import Attachment, CheckResult, Observed, measured
from pytest_wimmelgate.errors import Category, CheckFailed, NotConfigured, ProbeError


def test_a_probe_that_returns_is_a_passed_result_with_the_criterion_as_reason() -> None:
    def probe(seen: Observed) -> None:
        seen.evidence["status"] = 200
        seen.parameters["recovery time (s)"] = 1.5
        seen.attachments.append(Attachment("table", "a | b"))
        seen.note = "delivery not verified"

    result = measured("SG-2", "readiness answers 200", probe)
    assert (result.check_id, result.ok, result.reason, result.category) == ("SG-2", True, "readiness answers 200", None)
    assert result.evidence()["status"] == 200 and result.evidence()["criterion"] == "readiness answers 200"
    assert result.parameters == {"recovery time (s)": 1.5}
    assert result.attachments == (Attachment("table", "a | b"),)
    assert result.note == "delivery not verified"
    result.raise_for_failure()


def test_a_probe_error_is_a_failed_result_keeping_its_category_reason_and_what_was_seen_before() -> None:
    def probe(seen: Observed) -> None:
        seen.evidence["recent log documents"] = {"count": 12}
        raise ProbeError(Category.NO_DATA, "no marker line in backend-staging-*", {"searched": 3})

    result = measured("SG-8", "this run's marker is found", probe)
    assert not result.ok and result.category == Category.NO_DATA
    assert result.reason == "no marker line in backend-staging-*"
    evidence = result.evidence()
    assert evidence["recent log documents"] == {"count": 12} and evidence["searched"] == 3
    assert evidence["criterion"] == "this run's marker is found"
    assert result.note is None, "a failed check has nothing to note"
    with pytest.raises(CheckFailed) as raised:
        result.raise_for_failure()
    assert raised.value.category == Category.NO_DATA and raised.value.reason == result.reason
    assert raised.value.evidence == evidence


def test_what_is_not_a_failed_check_is_not_turned_into_a_result() -> None:
    def not_configured(seen: Observed) -> None:
        raise NotConfigured("logs.url")

    def broken(seen: Observed) -> None:
        raise KeyError("token")

    with pytest.raises(NotConfigured):
        measured("SG-8", "logs flow", not_configured)
    with pytest.raises(KeyError):
        measured("SG-4", "login works", broken)


def test_new_result_fields_keep_positional_construction_of_every_result() -> None:
    result = CheckResult("PF-2", False, "no entry", Category.CONFIG, {"changelog": "CHANGELOG.md"})
    assert (result.parameters, result.attachments, result.note) == ({}, (), None)
