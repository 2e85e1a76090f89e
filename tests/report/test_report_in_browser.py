"""The generated single-file report opened from disk in headless Chromium, as a reader sees it."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.report import generate_report
from tests.report.conftest import run_gate

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
EMBEDDED = re.compile(r"d\('([^']+)','([A-Za-z0-9+/=]*)'\)")


@pytest.fixture
def chromium() -> str:
    """Debian's ``chromium`` (CI installs it with apt)."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no chromium on PATH: apt-get install -y --no-install-recommends chromium")
    return found


class Browser:
    """Headless Chromium runs with a fresh profile each, on a report file."""

    def __init__(self, executable: str, scratch: Path) -> None:
        self.executable = executable
        self.scratch = scratch
        self.runs = 0

    def _command(self, *extra: str) -> list[str]:
        self.runs += 1
        profile = self.scratch / f"profile-{self.runs}"
        return [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            *extra,
        ]

    def text(self, index: Path, fragment: str = "") -> str:
        """The rendered page's visible text (scripts and styles removed, whitespace collapsed)."""
        done = subprocess.run(
            self._command("--dump-dom", index.as_uri() + fragment),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        dom = re.sub(r"<(script|style)\b.*?</\1>", " ", done.stdout, flags=re.S | re.I)
        self.last_dom = dom
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())

    def screenshot(self, index: Path, fragment: str, target: Path) -> Path:
        done = subprocess.run(
            self._command(f"--screenshot={target}", "--window-size=1400,1000", index.as_uri() + fragment),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
        return target


def embedded(index: Path, name: str) -> Any:
    """One data file of the single-file report (to find the test pages' URLs)."""
    for found, encoded in EMBEDDED.findall(index.read_text(encoding="utf-8")):
        if found == name:
            return json.loads(base64.b64decode(encoded))
    raise AssertionError(f"{name} not embedded in {index}")


def case_pages(index: Path) -> dict[str, str]:
    """URL fragment of each test case page, by test name (``#suites/<group>/<test>``)."""
    pages: dict[str, str] = {}

    def walk(node: dict[str, Any]) -> None:
        for child in node.get("children", []):
            if "children" in child:
                walk(child)
            else:
                pages[child["name"]] = f"#suites/{child['parentUid']}/{child['uid']}"

    walk(embedded(index, "data/suites.json"))
    return pages


def attach(path: Path, name: str) -> None:
    try:
        import allure
    except ImportError:
        return
    allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.PNG)


def test_report_shows_checks_statuses_runbook_links_and_environment(
    gate_dir: pytest.Pytester, allure_cli: list[str], chromium: str, tmp_path: Path
) -> None:
    run_dir = run_gate(gate_dir, "1.4.2", "--wg-commit", "3f9c2e1")
    result = generate_report(run_dir, mode="required", cli=allure_cli)
    assert result.ok, result.note
    index = run_dir / "report" / "index.html"
    browser = Browser(chromium, tmp_path)

    overview = browser.text(index)
    assert "Wimmelgate release gate" in overview, "report name from executor.json"
    assert "3 test cases" in overview, "two checks and the catalogue coverage"
    assert re.search(
        r"Environment environment testenv environment\.source env\.yaml version 1\.4\.2 "
        r"commit 3f9c2e1",
        overview,
    ), overview
    assert "Product defect 1" in overview, "the failure is sorted into its category"

    pages = case_pages(index)
    assert {"test_health_answers_ok", "test_readiness_answers_200"} <= set(pages)
    coverage_page = next(name for name in pages if name.startswith("Catalogue coverage"))
    assert "SG-1" in browser.text(index, pages[coverage_page])

    failed = browser.text(index, pages["test_readiness_answers_200"])
    assert "Failed test_readiness_answers_200" in failed
    assert "readiness answered 503 (database unreachable)" in failed
    assert "SG-2" in failed and "staging_gate" in failed
    assert "Severity: critical" in failed
    assert "Links Runbook §2.2" in failed
    assert 'href="docs/runbook.md#22-staging-gate-t-12h"' in browser.last_dom

    passed = browser.text(index, pages["test_health_answers_ok"])
    assert "Passed test_health_answers_ok" in passed
    assert "SG-1" in passed and "Runbook §2.2" in passed

    behaviors = browser.text(index, "#behaviors")
    assert "staging_gate" in behaviors and "prod_smoke" in behaviors, "epics are the gates"

    shot = browser.screenshot(index, pages["test_readiness_answers_200"], tmp_path / "failed-check.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    attach(shot, "report: failed check SG-2")


def test_second_report_draws_the_trend(
    gate_dir: pytest.Pytester, allure_cli: list[str], chromium: str, tmp_path: Path
) -> None:
    first = run_gate(gate_dir, "1.4.1")
    assert generate_report(first, mode="required", cli=allure_cli).ok
    browser = Browser(chromium, tmp_path)
    assert "Trend There is nothing to show" in browser.text(first / "report" / "index.html")

    second = run_gate(gate_dir, "1.4.2")
    assert generate_report(second, mode="required", cli=allure_cli).ok
    index = second / "report" / "index.html"
    overview = browser.text(index)
    assert "Trend" in overview and "Trend There is nothing to show" not in overview
    trend = browser.last_dom[browser.last_dom.index("history-trend__chart") :]
    assert "trend__area" in trend.split("</svg>")[0], "the trend chart is drawn"
    failed = browser.text(index, case_pages(index)["test_readiness_answers_200"] + "/history")
    assert "History Retries Success rate 0% (0 of 2)" in failed, "the check's history spans both runs"
    shot = browser.screenshot(index, "", tmp_path / "overview-with-trend.png")
    attach(shot, "report: overview with trend")
