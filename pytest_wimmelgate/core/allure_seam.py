"""Where the plugin relies on allure-pytest's internals (pinned: allure-pytest >=2.13,<3).

allure-pytest offers no API to write its results through another file logger: it
registers its own `AllureListener` and `AllureFileLogger` in ``pytest_configure`` when
``--alluredir`` is given, and the file logger writes every value unfiltered (MASKED
parameters and attachments included). A gate run therefore builds the listener itself
(its constructor takes the config) and registers `RedactingFileLogger` in its place: a
subclass of the file logger that overrides its private ``_report_item`` to shape
(`artifacts.allure_results.shape_result`: titled by check id, a failed check is failed
whatever exception carried it) and redact every result before it reaches the disk. CI
runs the suite once more against the newest allure-pytest the pin allows, so a change
here shows up there first.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger

from pytest_wimmelgate.artifacts.allure_results import ResultShape, shape_result
from pytest_wimmelgate.config.secrets import SecretSet


def detach_user_alluredir(config: pytest.Config) -> str | None:
    """Take ``--alluredir`` away from allure-pytest (it would write unredacted); return it.

    Must run before allure-pytest's own ``pytest_configure`` (``tryfirst``).
    """
    user_dir = getattr(config.option, "allure_report_dir", None)
    if hasattr(config.option, "allure_report_dir"):
        config.option.allure_report_dir = None
    return str(user_dir) if user_dir else None


def attach_listener(
    config: pytest.Config, results_dir: Path, secrets: SecretSet, shape: ResultShape | None = None
) -> Callable[[], None]:
    """Register allure-pytest's listener with a redacting file logger; returns the release function."""
    import allure_commons
    from allure_pytest.listener import AllureListener

    listener = AllureListener(config)
    logger = RedactingFileLogger(results_dir, secrets, shape)
    config.pluginmanager.register(listener, "allure_listener")
    allure_commons.plugin_manager.register(listener)
    allure_commons.plugin_manager.register(logger)

    def release() -> None:
        for plugin in (listener, logger):
            if allure_commons.plugin_manager.is_registered(plugin):
                allure_commons.plugin_manager.unregister(plugin)

    return release


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
        text = self._secrets.redact_json(data)  # redacted before anything reaches the disk
        # written in place, as allure-pytest does: nothing reads results before the run ends, and a temporary file
        # renamed per result cost about 70 µs each (35 ms of CPU on a 500-check run)
        with open(os.path.join(self._report_dir, filename), "w", encoding="utf8") as handle:
            handle.write(text)

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
