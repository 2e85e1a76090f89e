"""Evidence attached to a check's Allure result, redacted on the way out."""

from __future__ import annotations

import json
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.errors import Category


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
