"""An Allure file logger that shapes and redacts every result before anything reaches the disk.

allure-pytest writes MASKED parameters and attachments unfiltered; this logger takes its place and passes
every result, container and attachment through a `SecretSet`. Test results are shaped on the way
(`allure_results.shape_result`): titled by check id and catalogue title, and a failed check is ``failed``
with its category whatever exception carried it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger

from pytest_wimmelgate.artifacts.allure_results import ResultShape, shape_result
from pytest_wimmelgate.config.secrets import SecretSet

RESULT_SUFFIX = "-result.json"


class RedactingFileLogger(AllureFileLogger):
    def __init__(self, report_dir: Path, secrets: SecretSet, shape: ResultShape | None = None) -> None:
        super().__init__(str(report_dir), clean=False)  # type: ignore[no-untyped-call]
        self._secrets = secrets
        self.shape = shape  # the run's facts known so far (gates, shared titles): results are written final

    def _report_item(self, item: Any) -> None:
        from attr import asdict

        filename = item.file_pattern.format(prefix=uuid.uuid4())
        data = asdict(item, filter=lambda _, v: v or v is False)
        if filename.endswith(RESULT_SUFFIX):
            data = shape_result(data, self.shape)
        tmp = self._report_dir / f"{filename}.tmp"
        tmp.write_text(self._secrets.redact_json(data), encoding="utf8")
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
