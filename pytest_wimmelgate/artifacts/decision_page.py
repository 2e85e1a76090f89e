"""``report/index.html``: the release decision a Product Owner reads first, made from ``gate-summary.json``.

One self-contained static page (inline CSS, no script, no network). Its first screen names the gate,
environment, version and commit, the verdict in words (GO / NO-GO, and whether the run was incomplete) with the
number of blocking findings, and each blocking finding's check id and one-line reason. Below: links to the full
Allure report next to it (``allure.html``), the release note, the summary and the runbook; then every check with
outcome, reason and waiver, the waivers with expiry, warnings and approvals.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.config.secrets import SecretSet

PAGE = "index.html"

STYLE = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;
color:#1f2328;background:#f6f8fa}main{max-width:72rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}
.verdict{display:flex;align-items:center;gap:1.5rem;padding:1rem 1.5rem;border-radius:10px;color:#fff}
.verdict.go{background:#1a7f37}.verdict.no-go{background:#cf222e}.word{font-size:3rem;font-weight:800;
letter-spacing:.02em;line-height:1;white-space:nowrap;flex-shrink:0}.verdict .what{font-size:1.15rem}
.verdict .what strong{display:block;
font-size:1.3rem}.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.4rem 1.2rem;
margin:1rem 0;padding:.8rem 1.2rem;background:#fff;border:1px solid #d0d7de;border-radius:10px}
.facts div{display:flex;flex-direction:column}.facts span{color:#59636e;font-size:.8rem;text-transform:uppercase;
letter-spacing:.04em}.facts b{font-weight:600;overflow-wrap:anywhere}section{background:#fff;border:1px solid
#d0d7de;border-radius:10px;padding:.8rem 1.2rem;margin:1rem 0}h2{font-size:1.1rem;margin:.2rem 0 .6rem}
ol.findings{margin:0;padding-left:1.2rem}ol.findings li{margin:.3rem 0}.id{font-weight:700;font-family:ui-monospace,
SFMono-Regular,Menlo,monospace}.cat{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:999px;
background:#ffebe9;color:#82071e;border:1px solid #ffcecb;margin:0 .3rem}.links a{margin-right:1.2rem}
.note{color:#59636e}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;
border-bottom:1px solid #d8dee4;vertical-align:top}th{font-size:.8rem;color:#59636e;text-transform:uppercase}
.passed{color:#1a7f37;font-weight:600}.failed{color:#cf222e;font-weight:600}.skipped,.interrupted{color:#9a6700;
font-weight:600}.waived{color:#59636e}code{font-size:90%}
"""


@dataclass(frozen=True)
class Links:
    """Where the page's links point, relative to ``report/`` (or absolute)."""

    allure: str | None = "allure.html"
    allure_note: str | None = None
    runbook: str | None = "runbook.html"
    release_note: str = "../release-note.md"
    summary: str = "../gate-summary.json"
    junit: str = "../junit.xml"
    coverage: str = "../catalogue-coverage.md"
    ci_run: str | None = None


def verdict_word(summary: Mapping[str, Any]) -> str:
    return "GO" if summary.get("verdict") == "GO" else "NO-GO"


def run_state(summary: Mapping[str, Any]) -> str | None:
    """``incomplete`` / ``interrupted`` when the run did not cover its gates, else None."""
    if summary.get("exit_status") == 2:
        return "interrupted"
    if summary.get("complete") is False:
        return "incomplete"
    return None


def blocking_findings(summary: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """``(check id, reason, category)`` of every NO-GO finding, in the summary's order."""
    categories = {c.get("id"): c.get("category") for c in summary.get("checks", []) if c.get("outcome") == "failed"}
    findings = []
    for line in summary.get("reasons", []):
        check_id, _, reason = str(line).partition(": ")
        findings.append((check_id, reason or check_id, categories.get(check_id)))
    return findings


def render(summary: Mapping[str, Any], links: Links = Links()) -> str:
    """The whole page."""
    word = verdict_word(summary)
    state = run_state(summary)
    findings = blocking_findings(summary)
    gates = ", ".join(summary.get("gates") or []) or "(none)"
    headline = _headline(word, state, len(findings))
    title = f"{word} · {gates} · {summary.get('environment')} · {summary.get('version')}"
    body = [
        f'<div class="verdict {"go" if word == "GO" else "no-go"}" id="verdict">'
        f'<div class="word">{_e(word)}</div><div class="what"><strong>{_e(headline)}</strong>'
        f"{_e(gates)} on {_e(summary.get('environment'))}, version {_e(summary.get('version'))} "
        f"@ {_e(summary.get('commit'))}</div></div>",
        _facts(summary, gates),
        _findings(findings, word),
        _links(links),
        _checks(summary, links.runbook),
        _waivers(summary),
        _listing("Warnings (not blocking)", summary.get("warnings", [])),
        _not_run(summary),
        _listing("Approvals", summary.get("approvals", [])),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body><main>"
        + "\n".join(part for part in body if part)
        + "</main></body></html>\n"
    )


def write(report_dir: Path, summary: Mapping[str, Any], links: Links, secrets: SecretSet | None = None) -> Path:
    """Write ``<report_dir>/index.html``, redacted with `secrets` before escaping (an escaped secret would no
    longer match) and once more after."""
    text = render(secrets.redact_tree(dict(summary)) if secrets is not None else summary, links)
    if secrets is not None:
        text = secrets.redact(text)
    report_dir.mkdir(parents=True, exist_ok=True)
    target = report_dir / PAGE
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def _headline(word: str, state: str | None, blocking: int) -> str:
    if word == "GO":
        return "Release may proceed: no blocking finding"
    count = f"{blocking} blocking finding{'s' if blocking != 1 else ''}"
    if state == "interrupted":
        return f"Run interrupted: {count}"
    if state == "incomplete":
        return f"Incomplete run: {count}"
    return f"Release blocked: {count}"


def _facts(summary: Mapping[str, Any], gates: str) -> str:
    state = run_state(summary)
    rows = [
        ("Gate", gates),
        ("Environment", summary.get("environment")),
        ("Version", summary.get("version")),
        ("Commit", summary.get("commit")),
        ("Verdict", verdict_word(summary) + (f" ({state})" if state else "")),
        ("Checks", _counts(summary)),
        ("Tester", summary.get("tester")),
        ("Started", summary.get("started_at")),
        ("Finished", summary.get("finished_at")),
    ]
    cells = "".join(f"<div><span>{_e(label)}</span><b>{_e(value)}</b></div>" for label, value in rows)
    return f'<div class="facts" id="facts">{cells}</div>'


def _counts(summary: Mapping[str, Any]) -> str:
    counts = summary.get("counts") or {}
    text = ", ".join(f"{value} {name}" for name, value in counts.items() if value or name in ("passed", "failed"))
    waived = len(summary.get("waivers") or [])
    return text + (f" ({waived} waived)" if waived else "")


def _findings(findings: Sequence[tuple[str, str, str | None]], word: str) -> str:
    if not findings:
        return '<section id="blocking"><h2>Blocking findings: none</h2></section>' if word == "GO" else ""
    items = "".join(
        f'<li><span class="id">{_e(check_id)}</span>'
        + (f'<span class="cat">{_e(category)}</span>' if category else " ")
        + f"{_e(reason)}</li>"
        for check_id, reason, category in findings
    )
    heading = f"<h2>Blocking findings ({len(findings)})</h2>"
    return f'<section id="blocking">{heading}<ol class="findings">{items}</ol></section>'


def _links(links: Links) -> str:
    parts = []
    if links.allure:
        parts.append(f'<a href="{_e(links.allure)}">Full Allure report</a>')
    parts += [
        f'<a href="{_e(links.release_note)}">Release note</a>',
        f'<a href="{_e(links.summary)}">gate-summary.json</a>',
        f'<a href="{_e(links.junit)}">junit.xml</a>',
        f'<a href="{_e(links.coverage)}">Catalogue coverage</a>',
    ]
    if links.runbook:
        parts.append(f'<a href="{_e(links.runbook)}">Runbook</a>')
    if links.ci_run:
        parts.append(f'<a href="{_e(links.ci_run)}">CI run</a>')
    note = f'<p class="note">{_e(links.allure_note)}</p>' if links.allure_note and not links.allure else ""
    return f'<section class="links" id="links"><h2>Evidence</h2>{" ".join(parts)}{note}</section>'


def _checks(summary: Mapping[str, Any], runbook: str | None) -> str:
    rows = []
    for entry in summary.get("checks", []):
        check_id = entry.get("id")
        check = catalogue.check_by_id(str(check_id)) if check_id else None
        outcome = str(entry.get("outcome"))
        detail = entry.get("reason") or ""
        if entry.get("waiver"):
            detail = f"{detail} — waived: {entry['waiver']}" if detail else f"waived: {entry['waiver']}"
        sections = ""
        if check is not None and runbook:
            sections = " ".join(
                f'<a href="{_e(catalogue.runbook_link(runbook, s))}">§{_e(s)}</a>' for s in check.sections
            )
        rows.append(
            f'<tr><td class="id">{_e(check_id or entry.get("nodeid"))}</td>'
            f"<td>{_e(check.title if check else entry.get('nodeid'))}</td>"
            f'<td class="{_e(outcome)}">{_e(outcome)}</td><td>{_e(entry.get("severity"))}</td>'
            f"<td>{_e(detail)}</td><td>{sections}</td></tr>"
        )
    if not rows:
        return ""
    head = "<tr><th>Check</th><th>Title</th><th>Outcome</th><th>Severity</th><th>Reason</th><th>Runbook</th></tr>"
    return f'<section id="checks"><h2>Checks ({len(rows)})</h2><table>{head}{"".join(rows)}</table></section>'


def _waivers(summary: Mapping[str, Any]) -> str:
    waivers = summary.get("waivers") or []
    if not waivers:
        return ""
    rows = "".join(
        f'<tr><td class="id">{_e(w.get("id"))}</td><td>{_e(waiver_reason(w))}</td>'
        f"<td>{_e(w.get('until') or 'no expiry')}</td></tr>"
        for w in waivers
    )
    head = "<tr><th>Check</th><th>Waiver reason</th><th>Until</th></tr>"
    return f'<section id="waivers"><h2>Waivers ({len(waivers)})</h2><table>{head}{rows}</table></section>'


def waiver_reason(waiver: Mapping[str, Any]) -> str:
    """The reason without the ``(until …)`` the verdict appends (the expiry has its own column)."""
    reason, until = str(waiver.get("reason") or ""), waiver.get("until")
    suffix = f" (until {until})"
    return reason[: -len(suffix)] if until and reason.endswith(suffix) else reason


def _not_run(summary: Mapping[str, Any]) -> str:
    entries = summary.get("not_run") or []
    lines = [f"{e.get('id')}: {e.get('why')}" if isinstance(e, Mapping) else str(e) for e in entries]
    return _listing("Not run", lines)


def _listing(title: str, lines: Sequence[Any]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f"<section><h2>{_e(title)}</h2><ul>{items}</ul></section>"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))
