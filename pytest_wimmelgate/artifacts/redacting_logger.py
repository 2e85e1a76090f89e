"""An Allure file logger that redacts secrets before anything reaches the disk.

allure-pytest writes MASKED parameters and attachments unfiltered; this logger takes
its place and passes every result, container and attachment through a `SecretSet`.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger

from pytest_wimmelgate.config.secrets import SecretSet


class RedactingFileLogger(AllureFileLogger):
    def __init__(self, report_dir: Path, secrets: SecretSet) -> None:
        super().__init__(str(report_dir), clean=False)  # type: ignore[no-untyped-call]
        self._secrets = secrets

    def _report_item(self, item: Any) -> None:
        from attr import asdict

        filename = item.file_pattern.format(prefix=uuid.uuid4())
        data = self._secrets.redact_tree(asdict(item, filter=lambda _, v: v or v is False))
        tmp = self._report_dir / f"{filename}.tmp"
        with open(tmp, "w", encoding="utf8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, self._report_dir / filename)

    @hookimpl
    def report_attached_file(self, source: str, file_name: str) -> None:
        body = Path(source).read_bytes()
        self.report_attached_data(body, file_name)

    @hookimpl
    def report_attached_data(self, body: bytes | str, file_name: str) -> None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        tmp = self._report_dir / f"{file_name}.tmp"
        tmp.write_bytes(self._secrets.redact_bytes(raw))
        os.replace(tmp, self._report_dir / file_name)
