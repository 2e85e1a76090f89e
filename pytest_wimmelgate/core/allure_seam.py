"""Where the plugin relies on allure-pytest's internals (pinned: allure-pytest >=2.13,<3).

allure-pytest offers no API to write its results through another file logger: it
registers its own `AllureListener` and `AllureFileLogger` in ``pytest_configure`` when
``--alluredir`` is given, and the file logger writes every value unfiltered. A gate run
therefore builds the listener itself (the constructor takes the config) and registers
`RedactingFileLogger` in place of the file logger. CI runs the suite once more against
the newest allure-pytest the pin allows, so a change here shows up there first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_wimmelgate.config.secrets import SecretSet


def detach_user_alluredir(config: pytest.Config) -> str | None:
    """Take ``--alluredir`` away from allure-pytest (it would write unredacted); return it.

    Must run before allure-pytest's own ``pytest_configure`` (``tryfirst``).
    """
    user_dir = getattr(config.option, "allure_report_dir", None)
    if hasattr(config.option, "allure_report_dir"):
        config.option.allure_report_dir = None
    return str(user_dir) if user_dir else None


def attach_listener(config: pytest.Config, results_dir: Path, secrets: SecretSet) -> Callable[[], None]:
    """Register allure-pytest's listener with a redacting file logger; returns the release function."""
    import allure_commons
    from allure_pytest.listener import AllureListener

    from pytest_wimmelgate.artifacts.redacting_logger import RedactingFileLogger

    listener = AllureListener(config)
    logger = RedactingFileLogger(results_dir, secrets)
    config.pluginmanager.register(listener, "allure_listener")
    allure_commons.plugin_manager.register(listener)
    allure_commons.plugin_manager.register(logger)

    def release() -> None:
        for plugin in (listener, logger):
            if allure_commons.plugin_manager.is_registered(plugin):
                allure_commons.plugin_manager.unregister(plugin)

    return release
