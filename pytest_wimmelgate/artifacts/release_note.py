"""``release-note.md``: the run's outcome ready to paste into the release ticket (runbook 4, "Release-Notiz mit
finalem Status ergänzen").

Made from ``gate-summary.json``: verdict, every check with outcome and reason, waivers with expiry, approvals,
tester, timestamps, version and commit, and where the evidence is (decision page, full report, summary,
manifest, CI run). Plain GitHub/GitLab Markdown; redacted with the run's `SecretSet` before it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_wimmelgate.artifacts.decision_page import blocking_findings, run_state, verdict_word, waiver_reason
from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.config.secrets import SecretSet

NOTE = "release-note.md"


def render(summary: Mapping[str, Any], *, run_folder: str, ci_run: str | None = None) -> str:
    """The note's Markdown text."""
    word = verdict_word(summary)
    state = run_state(summary)
    findings = blocking_findings(summary)
    gates = ", ".join(summary.get("gates") or []) or "(none)"
    verdict = f"**{word}**" + (f" ({state} run)" if state else "")
    verdict += f", {len(findings)} blocking finding{'s' if len(findings) != 1 else ''}"
    counts = summary.get("counts") or {}
    lines = [
        f"## Release gate {gates}: {word} for {summary.get('version')} on {summary.get('environment')}",
        "",
        "| | |",
        "|---|---|",
        f"| Verdict | {verdict} |",
        f"| Gate | {_cell(gates)} |",
        f"| Environment | {_cell(summary.get('environment'))} |",
        f"| Version | `{_code(summary.get('version'))}` |",
        f"| Commit | `{_code(summary.get('commit'))}` |",
        f"| Tester | {_cell(summary.get('tester'))} |",
        f"| Started | {_cell(summary.get('started_at'))} |",
        f"| Finished | {_cell(summary.get('finished_at'))} |",
        f"| Counts | {', '.join(f'{v} {k}' for k, v in counts.items())} |",
        f"| Run | `{_code(summary.get('run_id'))}` |",
        "",
    ]
    if findings:
        lines += ["### Blocking findings", ""]
        lines += [f"- **{check_id}** {_line(reason)}" for check_id, reason, _ in findings]
        lines.append("")
    lines += ["### Checks", "", "| Check | Title | Outcome | Reason |", "|---|---|---|---|"]
    for entry in summary.get("checks", []):
        check = catalogue.check_by_id(str(entry.get("id"))) if entry.get("id") else None
        reason = entry.get("reason") or ""
        if entry.get("waiver"):
            reason = f"{reason} (waived: {entry['waiver']})" if reason else f"waived: {entry['waiver']}"
        lines.append(
            f"| {_cell(entry.get('id') or entry.get('nodeid'))} | {_cell(check.title if check else '')} "
            f"| {_cell(entry.get('outcome'))} | {_cell(reason)} |"
        )
    lines.append("")
    warnings = summary.get("warnings") or []
    if warnings:
        lines += ["### Warnings (not blocking)", "", *[f"- {_line(w)}" for w in warnings], ""]
    waivers = summary.get("waivers") or []
    lines += ["### Waivers", ""]
    if waivers:
        lines += ["| Check | Reason | Until |", "|---|---|---|"]
        lines += [
            f"| {_cell(w.get('id'))} | {_cell(waiver_reason(w))} | {_cell(w.get('until') or 'no expiry')} |"
            for w in waivers
        ]
    else:
        lines.append("None.")
    lines += ["", "### Approvals", ""]
    approvals = summary.get("approvals") or []
    lines += [f"- {_line(a)}" for a in approvals] if approvals else ["None recorded."]
    lines += [
        "",
        "### Evidence",
        "",
        f"Run folder `{_code(run_folder)}` in the release folder:",
        "",
        "- `report/index.html`: the release decision, linking the full Allure report `report/allure.html`",
        "- `gate-summary.json`: verdict, checks and reasons (schema wimmelgate/gate-summary/v1)",
        "- `MANIFEST.sha256`: checksums of every file (`sha256sum -c MANIFEST.sha256`)",
    ]
    if ci_run:
        lines.append(f"- CI run: {ci_run}")
    return "\n".join(lines) + "\n"


def write(run_dir: Path, summary: Mapping[str, Any], secrets: SecretSet, *, ci_run: str | None = None) -> Path:
    """Write ``<run_dir>/release-note.md``; the run folder is named relative to the release folder."""
    try:
        folder = run_dir.relative_to(run_dir.parents[2]).as_posix()
    except (ValueError, IndexError):
        folder = run_dir.name
    target = run_dir / NOTE
    clean = secrets.redact_tree(dict(summary))  # before escaping: an escaped secret would no longer match
    target.write_text(secrets.redact(render(clean, run_folder=folder, ci_run=ci_run)), encoding="utf-8")
    return target


def _line(value: Any) -> str:
    """One line of text with the Markdown characters that would change its meaning escaped."""
    text = " ".join(str(value if value is not None else "").split())
    for char in ("\\", "*", "`", "[", "]", "<"):
        text = text.replace(char, "\\" + char)
    return text


def _cell(value: Any) -> str:
    """One table cell: one line, pipes escaped."""
    return _line(value).replace("|", "\\|")


def _code(value: Any) -> str:
    """Text inside backticks: one line, no backtick (nothing else needs escaping there)."""
    return " ".join(str(value if value is not None else "").split()).replace("`", "'")
