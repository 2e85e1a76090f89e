"""`Evidence.judge`, the one way a suite test ends: parameters, the result's evidence as one JSON
attachment, its texts and images, its note, then its verdict (raised last)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.core.evidence import Evidence
from pytest_wimmelgate.domain.result import Attachment, CheckResult
from pytest_wimmelgate.errors import Category, CheckFailed


class Recorded(Evidence):
    """Evidence that records what it would attach, in order."""

    def __init__(self) -> None:
        super().__init__(SecretSet([]))
        self.seen: list[tuple[str, str, Any]] = []

    def json(self, name: str, data: Any) -> None:
        self.seen.append(("json", name, data))

    def text(self, name: str, text: str) -> None:
        self.seen.append(("text", name, text))

    def png(self, name: str, body: bytes) -> None:
        self.seen.append(("png", name, body))

    def parameter(self, name: str, value: Any) -> None:
        self.seen.append(("parameter", name, value))


def _result(ok: bool) -> CheckResult:
    return CheckResult(
        "SG-3",
        ok,
        "recovered" if ok else "still 200 after 10 s",
        None if ok else Category.PRODUCT,
        {"recovery_s": 1.2},
        {"recovery time (s)": 1.2},
        (Attachment("table", "round | value"), Attachment("dashboard", b"\x89PNG")),
        "delivery not verified" if ok else None,
    )


def test_a_passed_result_is_attached_whole_and_its_note_recorded() -> None:
    evidence, notes = Recorded(), []
    evidence.judge("readiness timeline", _result(True), note=notes.append)
    kinds = [(kind, name) for kind, name, _ in evidence.seen]
    assert kinds == [
        ("parameter", "recovery time (s)"),
        ("json", "readiness timeline"),
        ("text", "table"),
        ("png", "dashboard"),
    ]
    assert evidence.seen[1][2]["recovery_s"] == 1.2 and evidence.seen[1][2]["ok"] is True
    assert notes == ["delivery not verified"]


def test_a_failed_result_is_attached_before_its_verdict_is_raised() -> None:
    evidence = Recorded()
    with pytest.raises(CheckFailed) as raised:
        evidence.judge("readiness timeline", _result(False))
    assert raised.value.category == Category.PRODUCT and raised.value.reason == "still 200 after 10 s"
    assert ("json", "readiness timeline") in [(kind, name) for kind, name, _ in evidence.seen]
