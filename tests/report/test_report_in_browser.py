"""The report folder of real staging gate runs on the sandbox, opened from disk in headless Chromium as a
Product Owner opens it: the first screen of ``report/index.html`` decides, the full Allure report and the
runbook are one click away."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report.conftest import SuiteRun, attach_png

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 800)
#: appended to a copy of the page: collects the text of every node the first screen shows
FIRST_SCREEN = """<script>(function(){var h=window.innerHeight,out=[],
w=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT);while(w.nextNode()){var n=w.currentNode;
if(!n.textContent.trim())continue;var r=document.createRange();r.selectNodeContents(n);var b=r.getBoundingClientRect();
if(b.width>0&&b.bottom>0&&b.top<h)out.push(n.textContent.trim());}var p=document.createElement('pre');
p.id='first-screen';p.textContent=out.join(' ');document.body.appendChild(p);})();</script>"""


@pytest.fixture
def chromium() -> str:
    """Debian's ``chromium`` (CI installs it with apt)."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no chromium on PATH: apt-get install -y --no-install-recommends chromium")
    return found


class Browser:
    """Headless Chromium runs with a fresh profile each, on a file of the run folder."""

    def __init__(self, executable: str, scratch: Path) -> None:
        self.executable = executable
        self.scratch = scratch
        self.runs = 0
        self.last_dom = ""

    def _run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        command = [
            self.executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={self.scratch / f'profile-{self.runs}'}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--virtual-time-budget=10000",
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    def text(self, page: Path, fragment: str = "") -> str:
        """The rendered page's visible text (scripts and styles removed, whitespace collapsed)."""
        dom = self._run("--dump-dom", page.as_uri() + fragment).stdout
        self.last_dom = dom
        dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())

    def first_screen(self, page: Path) -> str:
        """The text Chromium lays out inside the first window (1280x800) of `page`, measured in the page."""
        probe = self.scratch / f"first-screen-{self.runs}.html"
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", FIRST_SCREEN + "</body>"), "utf-8")
        dom = self._run("--dump-dom", probe.as_uri()).stdout
        found = re.search(r'<pre id="first-screen">(.*?)</pre>', dom, flags=re.S)
        assert found, dom[-2000:]
        return " ".join(html.unescape(found.group(1)).split())

    def screenshot(self, page: Path, target: Path) -> Path:
        self._run(f"--screenshot={target}", page.as_uri())
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000
        return target


def test_a_go_run_says_go_with_gate_environment_version_and_commit_on_the_first_screen(
    sandbox_go_run: SuiteRun, chromium: str, tmp_path: Path
) -> None:
    index = sandbox_go_run.run_dir / "report" / "index.html"
    browser = Browser(chromium, tmp_path)
    screen = browser.first_screen(index)
    assert screen.startswith("GO Release may proceed: no blocking finding"), screen
    for fact in (
        "Gate staging_gate",
        "Environment sandbox",
        "Version 0.0.0-sandbox",
        "Commit sandbox",
        "Verdict GO",
        "Blocking findings: none",
        "Full Allure report",
    ):
        assert fact in screen, fact
    assert "NO-GO" not in screen
    attach_png(browser.screenshot(index, tmp_path / "go-first-screen.png"), "decision page of a GO run")


def test_a_no_go_run_names_sg3_and_its_reason_on_the_first_screen(
    sandbox_no_go_run: SuiteRun, chromium: str, tmp_path: Path
) -> None:
    summary = sandbox_no_go_run.summary
    [sg3] = [c for c in summary["checks"] if c["id"] == "SG-3"]
    assert sg3["outcome"] == "failed" and "expected 503" in sg3["reason"]
    index = sandbox_no_go_run.run_dir / "report" / "index.html"
    browser = Browser(chromium, tmp_path)
    screen = browser.first_screen(index)
    assert screen.startswith("NO-GO Release blocked: 1 blocking finding staging_gate on sandbox"), screen
    assert f"Blocking findings (1) SG-3 product defect {sg3['reason']}" in screen
    assert "Environment sandbox" in screen and "Version 0.0.0-sandbox" in screen
    attach_png(browser.screenshot(index, tmp_path / "no-go-first-screen.png"), "decision page of a NO-GO run")


def test_the_full_allure_report_next_to_it_titles_checks_by_id_and_shows_sg3_failed(
    sandbox_no_go_run: SuiteRun, chromium: str, tmp_path: Path
) -> None:
    allure = sandbox_no_go_run.run_dir / "report" / "allure.html"
    assert 'href="allure.html"' in (allure.parent / "index.html").read_text()
    browser = Browser(chromium, tmp_path)
    text = browser.text(allure)
    assert "Failed 1" in text, text[:2000]
    assert "SG-3 · database blocked -> /readiness 503; unblocked -> 200 within a bound" in text
    assert "test_readiness_follows_a_blocked_database" not in text, "titled by check, not by function"
    assert "prod_smoke" not in text and "post_deploy" not in text, "only the gate that ran is a gate"
    attach_png(browser.screenshot(allure, tmp_path / "allure-overview.png"), "full Allure report of a NO-GO run")


def test_runbook_links_of_the_report_resolve_inside_the_bundle(
    sandbox_go_run: SuiteRun, chromium: str, tmp_path: Path
) -> None:
    report = sandbox_go_run.run_dir / "report"
    links = {link["url"] for result in sandbox_go_run.results() for link in result.get("links", [])}
    decision = set(re.findall(r'href="(runbook\.html#[^"]+)"', (report / "index.html").read_text()))
    assert "runbook.html#22-staging-gate-t-12h" in links and links <= decision | links
    page = (report / "runbook.html").read_text()
    for link in links | decision:
        anchor = link.split("#", 1)[1]
        assert f'id="{anchor}"' in page, f"{link} resolves to nothing"
    text = Browser(chromium, tmp_path).text(report / "runbook.html", "#22-staging-gate-t-12h")
    assert "2.2 Staging-Gate (T-12h)" in text and "/readiness" in text


def test_every_result_of_a_real_run_is_titled_by_its_check_id(sandbox_go_run: SuiteRun) -> None:
    titled = []
    for result in sandbox_go_run.results():
        checks = [label["value"] for label in result["labels"] if label["name"] == "check"]
        if result["fullName"] == "wimmelgate.catalogue.coverage":
            continue
        assert checks and result["name"].startswith(f"{checks[0]} · "), result["name"]
        titled.append(checks[0])
    assert sorted(titled) == sorted(c["id"] for c in sandbox_go_run.summary["checks"])
