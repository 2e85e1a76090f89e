"""The decision page ``report/index.html`` and the release note ``release-note.md``, made from a summary."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts import decision_page, release_note
from pytest_wimmelgate.config.secrets import SecretSet

SECRET = "Tok&en<Sup3r*Secret>Value-8842"


def check(check_id: str, outcome: str, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": check_id,
        "nodeid": f"suites/test_x.py::test_{check_id}",
        "gates": ["staging_gate"],
        "outcome": outcome,
        "severity": "critical",
        "required": True,
        "reason": reason,
        "category": extra.pop("category", None),
        "duration_s": 0.1,
        "safety_skip": False,
        "waiver": extra.pop("waiver", None),
    }


@pytest.fixture
def no_go() -> dict[str, Any]:
    return {
        "schema": "wimmelgate/gate-summary/v1",
        "gates": ["staging_gate"],
        "environment": "staging",
        "version": "1.4.2",
        "commit": "3f9c2e1",
        "tester": "release-bot",
        "verdict": "NO-GO",
        "started_at": "2026-11-28T19:02:11Z",
        "finished_at": "2026-11-28T19:02:40Z",
        "counts": {"passed": 1, "failed": 2, "skipped": 1, "warned": 0},
        "checks": [
            check("SG-1", "passed"),
            check(
                "SG-3",
                "failed",
                "/readiness still answered 200 5 s after the database was blocked",
                category="product defect",
            ),
            check("SG-6", "failed", "upload answered 500 | <b>bold</b>", category="infrastructure unreachable"),
            check("SG-10", "skipped", "not configured: grafana.url", waiver="no Grafana yet (until 2026-12-31)"),
        ],
        "reasons": [
            "SG-3: /readiness still answered 200 5 s after the database was blocked",
            "SG-6: upload answered 500 | <b>bold</b>",
        ],
        "warnings": [],
        "waivers": [{"id": "SG-10", "reason": "no Grafana yet (until 2026-12-31)", "until": "2026-12-31"}],
        "approvals": ["product-owner:Maria"],
        "run_id": "wg-0123456789ab",
        "exit_status": 1,
    }


@pytest.fixture
def go(no_go: dict[str, Any]) -> dict[str, Any]:
    summary = copy.deepcopy(no_go)
    summary.update(verdict="GO", reasons=[], checks=[check("SG-1", "passed")], waivers=[], exit_status=0)
    return summary


def text_of(page: str) -> str:
    """The page body's text, tags removed, whitespace collapsed."""
    body = page[page.index("<body>") :]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_a_no_go_page_leads_with_the_verdict_the_count_and_each_blocking_check(no_go: dict[str, Any]) -> None:
    page = decision_page.render(no_go)
    text = text_of(page)
    head = text[: text.index("Evidence")]
    assert head.startswith(
        "NO-GO Release blocked: 2 blocking findings staging_gate on staging, version 1.4.2 @ 3f9c2e1"
    )
    for fact in ("Gate staging_gate", "Environment staging", "Version 1.4.2", "Commit 3f9c2e1", "Tester release-bot"):
        assert fact in head
    assert "Blocking findings (2) SG-3 product defect /readiness still answered 200" in head
    assert "SG-6 infrastructure unreachable upload answered 500 | &lt;b&gt;bold&lt;/b&gt;" in head, "escaped"
    assert "<b>bold</b>" not in page
    assert "<title>NO-GO · staging_gate · staging · 1.4.2</title>" in page


def test_a_go_page_says_go_and_no_blocking_finding(go: dict[str, Any]) -> None:
    text = text_of(decision_page.render(go))
    assert text.startswith("GO Release may proceed: no blocking finding staging_gate on staging, version 1.4.2")
    assert "Blocking findings: none" in text and "NO-GO" not in text


@pytest.mark.parametrize(
    ("change", "headline"),
    [({"complete": False}, "Incomplete run: 2 blocking findings"), ({"exit_status": 2}, "Run interrupted")],
)
def test_an_incomplete_or_interrupted_run_says_so(no_go: dict[str, Any], change: dict[str, Any], headline: str) -> None:
    text = text_of(decision_page.render({**no_go, **change}))
    assert text.startswith(f"NO-GO {headline}")


def test_the_page_is_self_contained_and_links_its_evidence(no_go: dict[str, Any]) -> None:
    page = decision_page.render(no_go, decision_page.Links(ci_run="https://ci.example/run/7"))
    assert "<script" not in page and " src=" not in page and "@import" not in page and "url(" not in page
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert {"allure.html", "../release-note.md", "../gate-summary.json", "runbook.html"} <= set(hrefs)
    assert "runbook.html#22-staging-gate-t-12h" in hrefs, "each check links its runbook section"
    assert [h for h in hrefs if h.startswith("http")] == ["https://ci.example/run/7"]


def test_without_the_full_report_the_page_says_why(no_go: dict[str, Any]) -> None:
    links = decision_page.Links(allure=None, allure_note="full Allure report not generated: no Node.js found")
    page = decision_page.render(no_go, links)
    assert "Full Allure report" not in page and "no Node.js found" in text_of(page)


def test_waivers_show_reason_and_expiry(no_go: dict[str, Any]) -> None:
    text = text_of(decision_page.render(no_go))
    assert "Waivers (1) Check Waiver reason Until SG-10 no Grafana yet 2026-12-31" in text
    assert "(4 waived)" not in text and "(1 waived)" in text


def test_secrets_never_reach_the_page_even_where_html_escaping_would_hide_them(
    no_go: dict[str, Any], tmp_path: Path
) -> None:
    no_go["reasons"][0] += f" token={SECRET}"
    no_go["checks"][1]["reason"] += f" token={SECRET}"
    path = decision_page.write(tmp_path, no_go, decision_page.Links(), SecretSet.of([SECRET]))
    body = path.read_text()
    assert SECRET not in body and "Tok&amp;en" not in body and "Sup3r" not in body
    assert "token=***" in body


def test_the_release_note_has_everything_the_ticket_needs(no_go: dict[str, Any], tmp_path: Path) -> None:
    run_dir = tmp_path / "rel" / "1.4.2" / "staging" / "staging_gate-20261128T190211Z"
    run_dir.mkdir(parents=True)
    no_go["checks"][2]["reason"] += f" ({SECRET})"
    path = release_note.write(run_dir, no_go, SecretSet.of([SECRET]), ci_run="https://ci.example/run/7")
    note = path.read_text()
    assert path.name == "release-note.md"
    assert note.startswith("## Release gate staging_gate: NO-GO for 1.4.2 on staging\n")
    for line in (
        "| Verdict | **NO-GO**, 2 blocking findings |",
        "| Version | `1.4.2` |",
        "| Commit | `3f9c2e1` |",
        "| Tester | release-bot |",
        "| Started | 2026-11-28T19:02:11Z |",
        "| Finished | 2026-11-28T19:02:40Z |",
        "- **SG-3** /readiness still answered 200 5 s after the database was blocked",
        "| SG-1 | /health 200 with the expected version and commit | passed |  |",
        "| SG-10 | no Grafana yet | 2026-12-31 |",
        "- product-owner:Maria",
        "Run folder `1.4.2/staging/staging_gate-20261128T190211Z` in the release folder:",
        "- CI run: https://ci.example/run/7",
    ):
        assert line in note.splitlines(), line
    sg6 = next(line for line in note.splitlines() if line.startswith("| SG-6 |"))
    assert sg6.count(" | ") == 3 and "500 \\| \\<b>bold\\</b>" in sg6, "a pipe or tag in a reason stays in its cell"
    assert SECRET not in note and "Sup3r" not in note
    assert "(\\*\\*\\*)" in sg6, "the mask, escaped so Markdown shows ***"
    assert "report/index.html" in note and "gate-summary.json" in note


def test_a_go_release_note_says_none_where_there_is_nothing(go: dict[str, Any]) -> None:
    note = release_note.render({**go, "approvals": []}, run_folder="1.4.2/staging/x")
    assert "| Verdict | **GO**, 0 blocking findings |" in note
    assert "### Blocking findings" not in note
    assert "### Waivers\n\nNone." in note and "### Approvals\n\nNone recorded." in note


def test_an_absolute_runbook_url_is_linked_and_a_missing_runbook_gets_a_page_saying_so(tmp_path: Path) -> None:
    from pytest_wimmelgate.artifacts.bundle import write_runbook
    from pytest_wimmelgate.catalogue.marks import report_runbook_base

    wiki = "https://wiki.example/ops/runbook"
    assert write_runbook(tmp_path / "a", wiki, None) == wiki and not (tmp_path / "a").exists()
    assert report_runbook_base(wiki) == wiki and report_runbook_base("docs/runbook.md") == "runbook.html"
    (tmp_path / "b").mkdir()
    assert write_runbook(tmp_path / "b", "ops/no-such-runbook.md", tmp_path) == "runbook.html"
    page = (tmp_path / "b" / "runbook.html").read_text()
    assert "Runbook not found" in page and "ops/no-such-runbook.md" in page and "absolute URL" in page
