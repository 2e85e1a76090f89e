"""Evidence attached to a check's Allure result, redacted on the way out."""

from __future__ import annotations

import json
from typing import Any

from pytest_wimmelgate.config.secrets import SecretSet


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
