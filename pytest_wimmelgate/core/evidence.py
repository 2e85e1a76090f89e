"""Evidence attached to a check's Allure result, redacted on the way out, and the one way
a suite test ends: `Evidence.judge` (attach the domain result's evidence, raise its verdict)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.domain.result import Attachment
from pytest_wimmelgate.errors import Category


class Judged(Protocol):
    """A domain check's outcome as `Evidence.judge` reads it: `CheckResult` and its kin."""

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    @property
    def attachments(self) -> Sequence[Attachment]: ...

    @property
    def note(self) -> str | None: ...

    def evidence(self) -> Mapping[str, Any]: ...

    def raise_for_failure(self) -> None: ...


class Evidence:
    """Attach values behind a verdict: queries, raw answers, timings, screenshots."""

    def __init__(self, secrets: SecretSet) -> None:
        self._secrets = secrets

    def json(self, name: str, data: Any) -> None:
        import allure

        text = json.dumps(self._secrets.redact_tree(data), indent=2, ensure_ascii=False, default=str)
        allure.attach(text, name=name, attachment_type=allure.attachment_type.JSON)

    def text(self, name: str, text: str) -> None:
        import allure

        allure.attach(self._secrets.redact(text), name=name, attachment_type=allure.attachment_type.TEXT)

    def png(self, name: str, body: bytes) -> None:
        import allure

        allure.attach(body, name=name, attachment_type=allure.attachment_type.PNG)

    def parameter(self, name: str, value: Any) -> None:
        import allure

        shown = value if isinstance(value, (int, float)) else self._secrets.redact(str(value))
        allure.dynamic.parameter(name, shown)

    def judge(self, name: str, result: Judged, *, note: Callable[[str], None] | None = None) -> None:
        """Attach ``result``'s evidence as ``name`` (its parameters and attachments too), then
        raise its verdict; ``note`` records what a passed check could not verify."""
        __tracebackhide__ = True
        for key, value in result.parameters.items():
            self.parameter(key, value)
        self.json(name, result.evidence())
        for attachment in result.attachments:
            if isinstance(attachment.body, bytes):
                self.png(attachment.name, attachment.body)
            else:
                self.text(attachment.name, attachment.body)
        if result.note and note is not None:
            note(result.note)
        result.raise_for_failure()


def attach_failure_evidence(error: Exception, secrets: SecretSet) -> None:
    """Attach a failed check's reason, category and evidence as "verdict evidence"."""
    evidence = getattr(error, "evidence", None)
    reason = str(error)
    import allure

    body = {"reason": reason, "category": str(getattr(error, "category", Category.PRODUCT))}
    if evidence:
        body["evidence"] = evidence
    allure.attach(
        json.dumps(secrets.redact_tree(body), indent=2, ensure_ascii=False, default=str),
        name="verdict evidence",
        attachment_type=allure.attachment_type.JSON,
    )
