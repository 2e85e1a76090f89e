"""Settings shared by every test process of the plugin's own suite.

Marker ``full_report``: the test's inner gate runs make the full Allure HTML report (``--wg-report auto``),
for tests that search every file of a run folder, the report included (secrets). Other inner gate runs of
``tests/gates`` skip it (``WIMMELGATE_REPORT=off``): Node costs about 2 s of CPU per run, and their assertions
read the summary, JUnit and Allure results, never the HTML report.

Bytecode for child processes. Inner gate runs, sandbox processes and xdist workers each start a new
Python. Where the session forbids bytecode files (``PYTHONDONTWRITEBYTECODE``, set by some shells and
CI images), each of them would compile the plugin and the suites from source again: about 0.2 s of CPU
per process, hundreds of times per suite run. Children get a bytecode cache outside the checkout
instead (``PYTHONPYCACHEPREFIX``), as an installed package has; what they run is unchanged.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

PYCACHE = Path(tempfile.gettempdir()) / f"wimmelgate-test-pycache-{os.getuid()}"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full_report: inner gate runs make the full Allure HTML report too")
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
